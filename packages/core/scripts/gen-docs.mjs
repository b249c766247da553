// Regenerates the generated parts of README.md: the state table (from the built dist/index.js)
// and the guide's code blocks (```ts file=src/NAME from src/__examples__/NAME). Tests check both.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderStateTable } from '../dist/index.js';

const file = new URL('../README.md', import.meta.url);

function replaceBetween(text, begin, end, body) {
  const a = text.indexOf(begin);
  const b = text.indexOf(end, a + begin.length);
  if (a < 0 || b < 0) throw new Error(`README.md lacks the markers ${begin} … ${end}`);
  return `${text.slice(0, a + begin.length)}${body}${text.slice(b)}`;
}

let text = readFileSync(file, 'utf8');
text = replaceBetween(
  text,
  '<!-- state-table:begin -->',
  '<!-- state-table:end -->',
  `\n${renderStateTable()}\n`,
);
text = text.replace(/```ts file=src\/([\w.-]+)\n[\s\S]*?```/g, (_, name) => {
  const example = readFileSync(new URL(`../src/__examples__/${name}`, import.meta.url), 'utf8');
  return `\`\`\`ts file=src/${name}\n${example.endsWith('\n') ? example : `${example}\n`}\`\`\``;
});
writeFileSync(file, text);
console.log('README.md regenerated (state table, guide examples)');
