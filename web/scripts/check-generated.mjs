// Fails while src/api/schema.d.ts differs from what schemas/openapi.yaml generates.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = join(mkdtempSync(join(tmpdir(), 'cg-gen-')), 'schema.d.ts');
execFileSync('npx', ['openapi-typescript', '../schemas/openapi.yaml', '-o', out], { stdio: 'ignore' });
if (readFileSync(out, 'utf8') !== readFileSync('src/api/schema.d.ts', 'utf8')) {
  console.error('web/src/api/schema.d.ts is stale: run `npm run gen` in web/');
  process.exit(1);
}
console.log('web/src/api/schema.d.ts matches schemas/openapi.yaml');
