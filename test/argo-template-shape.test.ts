/**
 * src/admission/argo-template-shape.ts is what its generator prints today: the shape of the pod template in the
 * Argo Rollouts release the tests run (test/cluster-bins/argo-rollouts/go.mod), found by reflection over its
 * typed structs. When that pin moves, this test says so, and the command below writes the table again.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { TEST_DIR } from './helpers/fixtures.js';

const MODULE = join(TEST_DIR, 'cluster-bins', 'argo-rollouts');
const TABLE = join(TEST_DIR, '..', 'src', 'admission', 'argo-template-shape.ts');

t.test('the committed table is the generator\'s output', async (t) => {
  const { stdout } = await promisify(execFile)('go', ['run', './template-shape'], {
    cwd: MODULE,
    env: { ...process.env, GOFLAGS: '-mod=readonly -buildvcs=false', GOTOOLCHAIN: 'local' },
    maxBuffer: 1 << 24,
  });
  t.equal(readFileSync(TABLE, 'utf8'), stdout, `up to date (cd test/cluster-bins/argo-rollouts && go run ./template-shape > ../../../src/admission/argo-template-shape.ts)`);
  // What canonical-template.ts relies on, read from the table the controller's structs gave.
  t.match(stdout, /"core\/v1\.PodSpec": \{[^\n]*"hostNetwork":"b\?"[^\n]*"securityContext":"\*T:core\/v1\.PodSecurityContext\?"[^\n]*"tolerations":"\[\]T:core\/v1\.Toleration\?"/, 'omitempty values, pointers and lists as the controller has them');
  t.match(stdout, /"core\/v1\.Container": \{[^\n]*"resources":"T:core\/v1\.ResourceRequirements\?"/, 'resources: a struct, which omitempty cannot drop');
});
