'use strict';
// Every ```js example in the README runs as written (in a child process, with
// require('recon-kernels') resolving to this checkout), so the documentation cannot rot.
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

describe('README examples', function () {
  it('has an example per family', function () {
    for (const family of ['nufft', 'kplanes', 'tv', 'tomo', 'mri']) {
      assert.ok(blocks.some((b) => new RegExp(`\\b${family}\\.`).test(b)), `no README example uses ${family}`);
    }
  });

  blocks.forEach((code, i) => {
    const title = code.split('\n').find((l) => l.trim() && !l.startsWith('const') && !l.startsWith('//')) || code.split('\n')[0];
    it(`example ${i + 1} runs: ${title.trim().slice(0, 60)}`, function () {
      const program = `const __req = require; require = (m) => __req(m === 'recon-kernels' ? ${JSON.stringify(root)} : m);\n(async () => {\n${code}\n})().catch((e) => { console.error(e); process.exit(1); });`;
      const r = spawnSync(process.execPath, ['-e', program], { encoding: 'utf8', timeout: 110000 });
      assert.strictEqual(r.status, 0, `example ${i + 1} failed:\n${code}\n--- stderr ---\n${r.stderr}`);
    });
  });
});
