import assert from 'node:assert/strict';
import { test } from 'node:test';
import { templatePath } from './path-template.ts';

test('ids and numbers collapse, words stay', () => {
	assert.equal(templatePath('/users/123/orders/9f3a0c1d2e'), '/users/:id/orders/:id');
	assert.equal(templatePath('/users/7/orders/4b2e1f7c-9a1d-4c3e-8f00-123456789abc'), '/users/:id/orders/:id');
	assert.equal(templatePath('/api/v2/health'), '/api/v2/health');
	assert.equal(templatePath('/files/report-2024.pdf'), '/files/report-2024.pdf');
	assert.equal(templatePath('/tokens/eyJhbGciOiJIUzI1NiJ9abc'), '/tokens/:id');
	assert.equal(templatePath('/items/-12.5/x'), '/items/:id/x');
});

test('the query and fragment are dropped; absolute-form targets keep only the path', () => {
	assert.equal(templatePath('/search?q=secret&page=2'), '/search');
	assert.equal(templatePath('/a/1#frag'), '/a/:id');
	assert.equal(templatePath('http://example.test:8080/users/42?x'), '/users/:id');
	assert.equal(templatePath('/'), '/');
	assert.equal(templatePath('*'), '*');
});
