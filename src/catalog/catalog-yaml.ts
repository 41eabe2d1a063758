// The exported catalog as YAML, ready to keep in git and apply again. A version priced by an
// earlier edit of its tariff than the one exported says so in a comment: its snapshot, not the
// tariff shown, prices its usage.
import { Document, type Node } from 'yaml';
import type { ExportedCatalog } from './catalog-store.js';

export function catalogYaml(exported: ExportedCatalog): string {
  const document = new Document(exported.catalog);
  document.commentBefore = ' Io Billing catalog. Plans list the version in effect and those to come;\n'
    + ' apply it again with: npm run catalog -- apply <this file>';
  for (const { planIndex, versionIndex, tariffVersion } of exported.olderSnapshots) {
    const node = document.getIn(['plans', planIndex, 'versions', versionIndex], true) as Node;
    const tariff = exported.catalog.plans[planIndex]!.versions[versionIndex]!.tariff;
    node.commentBefore = ` priced by tariff "${tariff}" as it was at its version ${tariffVersion}, when this version was written`;
  }
  return document.toString({ lineWidth: 0 });
}
