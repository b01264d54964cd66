// The one rule of goman's source tree (docs/architecture.md): every folder of src/ is one layer,
// and an import may only go down. Folders on one line are peers and may not import each other.
// `npm run lint` runs this before eslint; it also refuses any import cycle between files.
const LAYERS = [
  ['util'],
  ['domain'],
  ['aws'],
  ['cost'],
  ['lease'],
  ['store'],
  ['events'],
  ['reconcile'],
  ['providers'],
  ['usecases'],
  ['api', 'nodeconfig', 'client'],
  ['cli'],
  ['cmd'],
];

const dir = (names) => `^src/(${names.join('|')})/`;

const upward = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1).flat();
  return layer
    .map((name) => ({ name, forbidden: [...layer.filter((peer) => peer !== name), ...above] }))
    .filter(({ forbidden }) => forbidden.length > 0)
    .map(({ name, forbidden }) => ({
      name: `layer-${name}`,
      comment: `src/${name} may import only the layers below it, never ${forbidden.join(', ')}.`,
      severity: 'error',
      from: { path: dir([name]) },
      to: { path: dir(forbidden) },
    }));
});

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'No import cycle between files (type-only imports included).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'in-a-layer',
      comment: `Every source file lives in one of the layer folders: ${LAYERS.flat().join(', ')}.`,
      severity: 'error',
      from: { path: '^src/', pathNot: dir(LAYERS.flat()) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'], conditionNames: ['import', 'node', 'default'] },
  },
};
