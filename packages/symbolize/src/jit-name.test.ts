import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanJitName } from './jit-name.ts';

test('V8 names keep function and basename:line', () => {
	assert.equal(cleanJitName('JS:*hotFn /srv/app/x.js:3:13'), 'hotFn x.js:3');
	assert.equal(cleanJitName('LazyCompile:~hotFn file:///srv/app/x.mjs:3:13'), 'hotFn x.mjs:3');
	assert.equal(cleanJitName('JS:^Foo.bar /a/b.js:10:5'), 'Foo.bar b.js:10');
	assert.equal(cleanJitName('JS:+get x /a/b.js:1:1'), 'get x b.js:1');
	assert.equal(cleanJitName('JS:* /tmp/jt.js:1:1'), '(anonymous) jt.js:1');
	assert.equal(cleanJitName('Eval:~ node:internal/main/run_main_module:1:1'), '(script) node:internal/main/run_main_module:1');
	assert.equal(cleanJitName('Function:~listOnTimeout node:internal/timers:512:25'), 'listOnTimeout node:internal/timers:512');
	assert.equal(cleanJitName('JS:~hot [eval]-wrapper:1:1'), 'hot [eval]-wrapper:1');
});

test('other names are unchanged', () => {
	assert.equal(cleanJitName('Builtin:ArrayPrototypeMap'), 'Builtin:ArrayPrototypeMap');
	assert.equal(cleanJitName('BytecodeHandler:Ldar'), 'BytecodeHandler:Ldar');
	assert.equal(cleanJitName('java.lang.String::hashCode'), 'java.lang.String::hashCode');
	assert.equal(cleanJitName('plain'), 'plain');
});
