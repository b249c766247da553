// Regenerates the state table in README.md from the built table (dist/states.js).
import { readFileSync, writeFileSync } from 'node:fs';
import { renderStateTable } from '../dist/states.js';

const file = new URL('../README.md', import.meta.url);
const begin = '<!-- state-table:begin -->';
const end = '<!-- state-table:end -->';
const text = readFileSync(file, 'utf8');
const a = text.indexOf(begin);
const b = text.indexOf(end);
if (a < 0 || b < 0) throw new Error('README.md lacks the state-table markers');
writeFileSync(file, `${text.slice(0, a + begin.length)}\n${renderStateTable()}\n${text.slice(b)}`);
console.log('README.md state table regenerated');
