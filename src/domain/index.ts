export * from './names.ts';
export * from './spec.ts';
export * from './cluster.ts';
export * from './conditions.ts';
export * from './status.ts';
export * from './errors.ts';
