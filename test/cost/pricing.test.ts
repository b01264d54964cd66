// Cost from prices (DESIGN §13). The GetProducts responses below are RECORDED SHAPES: they
// follow the PriceList documents AWS shows for the Price List Query API (AmazonEC2), trimmed
// to the fields goman reads plus a few it must ignore. moto does not serve the Pricing API,
// so no local peer can answer GetProducts; the numbers are the test's own.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { clusterCost, costChangeText, costText, priceBook } from '../../src/domain/cost.ts';
import { clusterSpecSchema } from '../../src/domain/spec.ts';
import { loadPrices, parsePriceList } from '../../src/cost/prices.ts';
import { SHIPPED_AS_OF, SHIPPED_PRICES } from '../../src/cost/price-table.ts';

function product(instanceType: string, regionCode: string, usd: string, unit = 'Hrs'): string {
  return JSON.stringify({
    product: {
      productFamily: 'Compute Instance',
      attributes: { instanceType, regionCode, location: 'Asia Pacific (Mumbai)', operatingSystem: 'Linux', tenancy: 'Shared', vcpu: '2', memory: '4 GiB', servicecode: 'AmazonEC2' },
      sku: 'ABCDEFGH12345678',
    },
    serviceCode: 'AmazonEC2',
    terms: {
      OnDemand: {
        'ABCDEFGH12345678.JRTCKXETXF': {
          priceDimensions: {
            'ABCDEFGH12345678.JRTCKXETXF.6YS6EN2CT7': {
              unit,
              endRange: 'Inf',
              description: `$${usd} per On Demand Linux ${instanceType} Instance Hour`,
              appliesTo: [],
              rateCode: 'ABCDEFGH12345678.JRTCKXETXF.6YS6EN2CT7',
              beginRange: '0',
              pricePerUnit: { USD: usd },
            },
          },
          sku: 'ABCDEFGH12345678',
          effectiveDate: '2025-06-01T00:00:00Z',
          offerTermCode: 'JRTCKXETXF',
          termAttributes: {},
        },
      },
      Reserved: { 'ABCDEFGH12345678.4NA7Y494T4': { priceDimensions: {} } },
    },
    version: '20250601000000',
    publicationDate: '2025-06-01T00:00:00Z',
  });
}

test('GetProducts: the hourly on-demand USD price of each product is read', () => {
  const entries = parsePriceList([product('t3.medium', 'ap-south-1', '0.0448000000'), product('g5.xlarge', 'ap-south-1', '1.2000000000')], '2026-11-01T00:00:00Z');
  assert.deepEqual(
    entries.map((e) => [e.region, e.instanceType, e.usdPerHour, e.asOf]),
    [
      ['ap-south-1', 't3.medium', 0.0448, '2026-11-01T00:00:00Z'],
      ['ap-south-1', 'g5.xlarge', 1.2, '2026-11-01T00:00:00Z'],
    ],
  );
});

test('GetProducts: a zero, non-hourly, unreadable or malformed item gives no price rather than a wrong one', () => {
  const entries = parsePriceList(
    [product('t3.small', 'us-east-1', '0.0000000000'), product('t3.large', 'us-east-1', '12', 'Quantity'), product('t3.xlarge', 'us-east-1', 'n/a'), '{not json', JSON.stringify({ product: {} })],
    '2026-11-01T00:00:00Z',
  );
  assert.deepEqual(entries, []);
});

test('cost: instances × hourly price in the region; stopped clusters run no instances', () => {
  const book = priceBook('test', '2026-01-01', [
    { region: 'us-east-1', instanceType: 't3.medium', usdPerHour: 0.0416, source: 't', asOf: '2026-01-01' },
    { region: 'us-east-1', instanceType: 'g5.xlarge', usdPerHour: 1.006, source: 't', asOf: '2026-01-01' },
  ]);
  const spec = clusterSpecSchema.parse({ region: 'us-east-1', mode: 'ha', nodePools: [{ name: 'gpu', count: 2, instanceType: 'g5.xlarge' }, { name: 'w', count: 1 }] });
  const cost = clusterCost(spec, book);
  assert.equal(cost.hourly, 0.0416 * 4 + 1.006 * 2);
  assert.equal(cost.monthly, Math.round((0.0416 * 4 + 1.006 * 2) * 730 * 100) / 100);
  assert.deepEqual(clusterCost({ ...spec, desiredState: 'stopped' }, book).hourly, 0);
  assert.match(costText(cost), /^\$2\.1784\/h \(\$1590\.23\/month\)$/);
});

test('cost: an unknown instance type or region is "no price", never 0', () => {
  const book = priceBook('shipped-table', SHIPPED_AS_OF, SHIPPED_PRICES);
  const cost = clusterCost(clusterSpecSchema.parse({ region: 'sa-east-1', nodePools: [{ name: 'x', count: 1, instanceType: 'x9.huge' }] }), book);
  assert.equal(cost.hourly, null);
  assert.equal(cost.monthly, null);
  assert.deepEqual(cost.missing, ['sa-east-1/t3.medium', 'sa-east-1/x9.huge']);
  assert.equal(costText(cost), 'no price for sa-east-1/t3.medium, sa-east-1/x9.huge');
  const known = clusterCost(clusterSpecSchema.parse({ region: 'ap-south-1' }), book);
  assert.match(costChangeText(known, cost), /^\$32\.70 → no price \(sa-east-1\/t3\.medium, sa-east-1\/x9\.huge\)\/month$/);
});

test('prices: the shipped table names its source and date in every entry', () => {
  assert.ok(SHIPPED_PRICES.length > 20);
  for (const e of SHIPPED_PRICES) {
    assert.match(e.source, /aws\.amazon\.com\/ec2\/pricing/);
    assert.equal(e.asOf, SHIPPED_AS_OF);
    assert.ok(e.usdPerHour > 0);
  }
});

test('prices: fetched prices are cached with their date and used before the table; an old table warns', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-prices-'));
  try {
    const now = () => Date.parse('2026-11-01T00:00:00Z');
    const need = [{ region: 'ap-south-1', instanceType: 't3.medium' }];
    const offline = await loadPrices({ dataDir: dir, env: {}, now });
    assert.equal(offline.book.origin, 'shipped-table');
    assert.match(offline.warning ?? '', /table shipped with goman, dated 2025-06-01 \(\d+ days old, more than GOMAN_PRICE_MAX_AGE_DAYS=180\)/);
    assert.equal((await loadPrices({ dataDir: dir, env: { GOMAN_PRICE_MAX_AGE_DAYS: '100000' }, now })).warning, undefined);

    let calls = 0;
    const fetch = async () => {
      calls++;
      return parsePriceList([product('t3.medium', 'ap-south-1', '0.0500000000')], new Date(now()).toISOString());
    };
    const fetched = await loadPrices({ dataDir: dir, env: {}, need, fetch, now });
    assert.equal(fetched.book.origin, 'aws-pricing-api');
    assert.equal(fetched.book.asOf, '2026-11-01');
    assert.equal(fetched.book.price('ap-south-1', 't3.medium')?.usdPerHour, 0.05);
    assert.equal(fetched.book.price('us-east-1', 't3.medium')?.usdPerHour, 0.0416, 'the table fills what was not fetched');
    assert.equal(fetched.warning, undefined);
    assert.match(readFileSync(path.join(dir, 'prices.json'), 'utf8'), /"fetchedAt": "2026-11-01T00:00:00.000Z"/);
    await loadPrices({ dataDir: dir, env: {}, need, fetch, now });
    assert.equal(calls, 1, 'a fresh cache is not fetched again');

    const failing = await loadPrices({ dataDir: mkdtempSync(path.join(dir, 'x')), env: { GOMAN_PRICE_MAX_AGE_DAYS: '100000' }, need, fetch: async () => Promise.reject(Object.assign(new Error('no'), { name: 'CredentialsProviderError' })), now });
    assert.equal(failing.book.origin, 'shipped-table');
    assert.match(failing.warning ?? '', /could not ask the AWS Price List API \(CredentialsProviderError\); using shipped prices/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
