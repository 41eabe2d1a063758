// ISO 4217 codes as the runtime's ICU data knows them, so no hand-kept list goes stale.
const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

export function isCurrency(code: unknown): code is string {
  return typeof code === 'string' && /^[A-Z]{3}$/.test(code) && KNOWN_CURRENCIES.has(code);
}
