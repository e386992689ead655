// node scripts/copy-outbox-sql.mjs <outDir>: tsc does not copy non-TypeScript files; the outbox reads its
// migration SQL next to its compiled module (<outDir>/lib/outbox/postgres/outbox.sql).
import { cpSync } from 'node:fs';
import { join } from 'node:path';

const outDir = process.argv[2];
if (outDir === undefined) throw new Error('usage: node scripts/copy-outbox-sql.mjs <outDir>');
cpSync('lib/outbox/postgres/outbox.sql', join(outDir, 'lib/outbox/postgres/outbox.sql'));
