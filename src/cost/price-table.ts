// The price table shipped with goman, used when the AWS Price List Query API cannot be asked
// (no credentials, no network) and nothing fetched is cached. On-demand, Linux, shared
// tenancy, USD per hour, as published on https://aws.amazon.com/ec2/pricing/on-demand/.
// These figures were NOT fetched by a program: they were written down from the published
// pages by hand and are believed valid as of AS_OF below. They are deliberately limited to
// the families and regions goman documents; any other type or region has "no price".
// When AWS changes a price, this table is wrong until it is updated — a cost computed from
// it says so by its origin and date, and warns when the date is older than
// GOMAN_PRICE_MAX_AGE_DAYS.
import type { PriceEntry } from '../domain/cost.ts';

export const SHIPPED_SOURCE = 'https://aws.amazon.com/ec2/pricing/on-demand/ (Linux, shared tenancy; transcribed by hand)';
export const SHIPPED_AS_OF = '2025-06-01';

type Row = readonly [instanceType: string, usdPerHour: number];

const US: readonly Row[] = [
  ['t3.micro', 0.0104],
  ['t3.small', 0.0208],
  ['t3.medium', 0.0416],
  ['t3.large', 0.0832],
  ['t3.xlarge', 0.1664],
  ['t3.2xlarge', 0.3328],
  ['m5.large', 0.096],
  ['m5.xlarge', 0.192],
  ['m5.2xlarge', 0.384],
  ['m5.4xlarge', 0.768],
  ['m6i.large', 0.096],
  ['m6i.xlarge', 0.192],
  ['m6i.2xlarge', 0.384],
  ['c5.large', 0.085],
  ['c5.xlarge', 0.17],
  ['c5.2xlarge', 0.34],
  ['c6i.large', 0.085],
  ['c6i.xlarge', 0.17],
  ['r5.large', 0.126],
  ['r5.xlarge', 0.252],
  ['g4dn.xlarge', 0.526],
  ['g4dn.2xlarge', 0.752],
  ['g5.xlarge', 1.006],
  ['g5.2xlarge', 1.212],
  ['g5.4xlarge', 1.624],
];

const ROWS: Record<string, readonly Row[]> = {
  'us-east-1': US,
  // us-west-2 (Oregon) lists the same on-demand prices as us-east-1 for these families.
  'us-west-2': US,
  'ap-south-1': [
    ['t3.micro', 0.0112],
    ['t3.small', 0.0224],
    ['t3.medium', 0.0448],
    ['t3.large', 0.0896],
    ['t3.xlarge', 0.1792],
    ['t3.2xlarge', 0.3584],
    ['m5.large', 0.101],
    ['m5.xlarge', 0.202],
    ['m5.2xlarge', 0.404],
  ],
  'eu-west-1': [
    ['t3.micro', 0.0114],
    ['t3.small', 0.0228],
    ['t3.medium', 0.0456],
    ['t3.large', 0.0912],
    ['t3.xlarge', 0.1824],
    ['m5.large', 0.107],
    ['m5.xlarge', 0.214],
    ['c5.large', 0.096],
  ],
  'eu-central-1': [
    ['t3.micro', 0.012],
    ['t3.small', 0.024],
    ['t3.medium', 0.048],
    ['t3.large', 0.096],
    ['m5.large', 0.115],
    ['c5.large', 0.097],
  ],
};

export const SHIPPED_PRICES: readonly PriceEntry[] = Object.entries(ROWS).flatMap(([region, rows]) =>
  rows.map(([instanceType, usdPerHour]) => ({ region, instanceType, usdPerHour, source: SHIPPED_SOURCE, asOf: SHIPPED_AS_OF })),
);
