#!/usr/bin/env node
// The public API report: every name the package entry point (src/index.ts) exports, one per line with its
// kind, written to etc/public-api.txt. `npm run lint` runs it with --check, which fails when the file and the
// code disagree, so a change to the public surface is always a deliberate, reviewed edit of that file.
//
// Usage: node scripts/api-report.mjs          rewrite etc/public-api.txt
//        node scripts/api-report.mjs --check  exit 1 (with a diff) when it is out of date
//        node scripts/api-report.mjs --count  print the number of exported names
//        node scripts/api-report.mjs --print [entry.ts]  print the report (of another entry point, for tests)
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entry = resolve(repo, process.argv.find((a, i) => i > 1 && !a.startsWith('--')) ?? 'src/index.ts');
const reportPath = resolve(repo, 'etc/public-api.txt');

const config = ts.getParsedCommandLineOfConfigFile(
  resolve(repo, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
const defaultEntry = entry === resolve(repo, 'src/index.ts');
// Another entry point (a test fixture) needs no @types/node: skipping it makes the run several times faster.
const program = ts.createProgram([entry], {
  ...config.options,
  noEmit: true,
  ...(defaultEntry ? {} : { types: [] }),
});
const checker = program.getTypeChecker();
const source = program.getSourceFile(entry);
if (source === undefined) throw new Error(`cannot read ${entry}`);
const moduleSymbol = checker.getSymbolAtLocation(source);
if (moduleSymbol === undefined) throw new Error(`${entry} is not a module`);

/** What a symbol is, as a reader of the API cares: value kinds first, then type-only kinds. */
function kindOf(symbol) {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const f = target.flags;
  const kinds = [];
  if (f & ts.SymbolFlags.Class) kinds.push('class');
  else if (f & ts.SymbolFlags.Enum) kinds.push('enum');
  else if (f & ts.SymbolFlags.Function) kinds.push('function');
  else if (f & ts.SymbolFlags.Variable) {
    const decl = target.valueDeclaration;
    const constant = decl !== undefined && ts.getCombinedNodeFlags(decl) & ts.NodeFlags.Const;
    kinds.push(constant ? 'const' : 'let');
  } else if (f & (ts.SymbolFlags.ValueModule | ts.SymbolFlags.NamespaceModule)) kinds.push('namespace');
  if (f & ts.SymbolFlags.Interface && !(f & ts.SymbolFlags.Class)) kinds.push('interface');
  if (f & ts.SymbolFlags.TypeAlias) kinds.push('type');
  // A type-only re-export (`export type { X }`) of a class/const is still usable only as a type.
  const typeOnly =
    symbol.flags & ts.SymbolFlags.Alias &&
    symbol.declarations?.some((d) => ts.isTypeOnlyImportOrExportDeclaration(d));
  if (typeOnly && kinds.length > 0 && !['interface', 'type'].includes(kinds[0]))
    return `type-only ${kinds.join('+')}`;
  return kinds.length > 0 ? kinds.join('+') : 'unknown';
}

const exported = checker
  .getExportsOfModule(moduleSymbol)
  .map((s) => ({ name: s.getName(), kind: kindOf(s) }))
  .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

// "Forgotten exports": a public declaration whose signature names a type of ours that is not exported
// (users could not name it in their own code). Private members, function bodies and initializers are not
// part of the surface and are not walked; inferred types (no annotation) are not checked.
const exportedTargets = new Set(
  checker
    .getExportsOfModule(moduleSymbol)
    .map((s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s)),
);
// Types declared next to the entry point (src/ for the package) are ours.
const srcDir = dirname(entry);
const forgotten = new Map();
function checkReference(owner, nameNode) {
  let symbol = checker.getSymbolAtLocation(nameNode);
  if (symbol === undefined) return;
  if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  if (symbol.flags & ts.SymbolFlags.TypeParameter) return;
  const decl = symbol.declarations?.[0];
  if (decl === undefined) return;
  const file = decl.getSourceFile().fileName;
  if (!resolve(file).startsWith(srcDir + '/') || exportedTargets.has(symbol)) return;
  // A member of an exported enum/namespace/class (e.g. `typeof X.member`) is reachable through its parent.
  if (symbol.parent !== undefined && exportedTargets.has(symbol.parent)) return;
  // relative(), not a slice by the repository path's length: the entry may live outside the repository (the
  // unit test's temporary directory), where a slice cut a path-length-dependent piece of the name.
  const key = `${symbol.getName()} (${relative(repo, file)})`;
  if (!forgotten.has(key)) forgotten.set(key, new Set());
  forgotten.get(key).add(owner);
}
// `typeof x` queries are not checked: they name a value, and the user names the exported type built from it.
function walk(owner, node, typeOnly) {
  if (ts.isBlock(node)) return;
  // `implements X`: the class declares X's members itself, so users never need to name X.
  if (ts.isHeritageClause(node) && node.token === ts.SyntaxKind.ImplementsKeyword) return;
  // The constructor of a class exported as a type only cannot be called by users.
  if (typeOnly && ts.isConstructorDeclaration(node)) return;
  if (
    (ts.isPropertyDeclaration(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isGetAccessor(node) ||
      ts.isSetAccessor(node)) &&
    ((node.name !== undefined && ts.isPrivateIdentifier(node.name)) ||
      ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Private)
  )
    return;
  if (ts.isTypeReferenceNode(node)) checkReference(owner, node.typeName);
  else if (ts.isExpressionWithTypeArguments(node)) checkReference(owner, node.expression);
  node.forEachChild((child) => {
    if ('initializer' in node && node.initializer === child) return;
    if (ts.isArrowFunction(node) && node.body === child) return;
    walk(owner, child, typeOnly);
  });
}
const isTypeOnlyExport = (s) =>
  (s.flags & ts.SymbolFlags.Alias) !== 0 &&
  (s.declarations ?? []).some((d) => ts.isTypeOnlyImportOrExportDeclaration(d));
for (const s of checker.getExportsOfModule(moduleSymbol)) {
  const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
  for (const decl of target.declarations ?? []) {
    // `type Public = Internal` gives an internal interface its public name: only its arguments are checked.
    if (ts.isTypeAliasDeclaration(decl) && ts.isTypeReferenceNode(decl.type)) {
      for (const arg of decl.type.typeArguments ?? []) walk(s.getName(), arg, false);
      continue;
    }
    walk(s.getName(), decl, isTypeOnlyExport(s));
  }
}

const header = [
  '# Public API of small-webrtc: every name the package entry point (src/index.ts) exports, with its kind.',
  '# Generated by `node scripts/api-report.mjs`; `npm run lint` fails when it is out of date. A diff here is',
  '# a change to the public surface: additions are features, removals and kind changes are breaking.',
  `# ${exported.length} names.`,
  '',
];
const report = `${header.join('\n')}${exported.map((e) => `${e.kind} ${e.name}`).join('\n')}\n`;

if (forgotten.size > 0) {
  console.error(
    'public declarations name types that src/index.ts does not export (export them or stop naming them):',
  );
  for (const [name, owners] of [...forgotten].sort())
    console.error(`  ${name}, named by ${[...owners].sort().join(', ')}`);
  process.exit(1);
}

if (process.argv.includes('--count')) {
  console.log(exported.length);
} else if (process.argv.includes('--print')) {
  process.stdout.write(report);
} else if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(reportPath, 'utf8');
  } catch {
    // A missing report is out of date.
  }
  if (current !== report) {
    const want = new Set(report.split('\n').filter((l) => l && !l.startsWith('#')));
    const have = new Set(current.split('\n').filter((l) => l && !l.startsWith('#')));
    console.error('etc/public-api.txt is out of date with src/index.ts (run `node scripts/api-report.mjs`):');
    for (const l of have) if (!want.has(l)) console.error(`  - ${l}`);
    for (const l of want) if (!have.has(l)) console.error(`  + ${l}`);
    process.exit(1);
  }
  console.log(`public API: ${exported.length} names, etc/public-api.txt is up to date`);
} else {
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, report);
  console.log(`wrote etc/public-api.txt (${exported.length} names)`);
}
