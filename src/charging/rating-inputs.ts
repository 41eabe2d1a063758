// Where a usage happened and what it was, as the gateway sent them, in the engine's terms: the
// wire's zero and empty values mean "not sent", which the engine spells as absent.
import type { Location, UsageAttributes } from '../rating/rate-usage.js';
import type { Attributes, Location as SentLocation } from './fields.js';

export function locationOf(location: SentLocation | undefined): Location | undefined {
  if (location === undefined) return undefined;
  return {
    ...(location.mcc === '' ? {} : { mcc: location.mcc }),
    ...(location.mnc === '' ? {} : { mnc: location.mnc }),
    ...(location.zone === '' ? {} : { zoneId: location.zone }),
  };
}

export function attributesOf(attributes: Attributes | undefined): UsageAttributes | undefined {
  if (attributes === undefined) return undefined;
  return {
    ...(attributes.serviceId === 0 ? {} : { serviceId: attributes.serviceId }),
    ...(attributes.apn === '' ? {} : { apn: attributes.apn }),
    ...(attributes.qosClass === 0 ? {} : { qosClass: attributes.qosClass }),
    ...(attributes.deviceType === '' ? {} : { deviceType: attributes.deviceType }),
  };
}
