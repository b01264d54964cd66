// Plain values of the node-configuration model, kept apart from the zod schemas in types.ts
// so that `goman snapshot` never pays for loading zod.
export const API_VERSION = 'goman.io/v1';

export const SERVICES = ['eks', 'gke', 'aks', 'oke', 'any'] as const;
export const ACCELERATORS = ['h100', 'gb200', 'a100', 'l40', 'any'] as const;
export const INTENTS = ['training', 'inference', 'any'] as const;
export const OSES = ['ubuntu', 'rhel', 'cos', 'amazonlinux', 'any'] as const;

export const OPERATORS = ['>=', '<=', '>', '<', '==', '!='] as const;
