// EC2 and SSM Parameter Store operations of one cluster (DESIGN §7). Discovery is always by
// tag, so what exists in the cloud — not what a status file remembers — decides what to do.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcsCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { EC2Client, Filter, Tag } from '@aws-sdk/client-ec2';
import { DeleteParametersCommand, GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { createHash, randomBytes } from 'node:crypto';
import { awsErrorName } from '../../aws/clients.ts';
import { INSTANCE_PROFILE, kubeconfigParameter, MANAGED_BY_TAG, securityGroupName, tokenParameter } from '../../aws/names.ts';
import type { Cluster } from '../../domain/index.ts';
import { nodeName, slotKey, type NodeSlot } from '../../domain/slots.ts';

export const TAG = {
  cluster: 'goman:cluster',
  clusterId: 'goman:cluster-id',
  role: 'goman:role',
  pool: 'goman:pool',
  index: 'goman:index',
  attempt: 'goman:attempt',
} as const;

/** A slot as the tags record it: servers carry SERVER_POOL as their pool. */
export interface Slot extends NodeSlot {
  key: string;
  pool: string;
}

export interface InstanceInfo extends Slot {
  id: string;
  state: string;
  privateIp: string | undefined;
  attempt: number;
  launchedAt: number;
}

/** ClientToken per (cluster id, slot, attempt): a retried launch returns the first instance. */
export function clientToken(clusterId: string, slot: Slot, attempt: number): string {
  return createHash('sha256').update(`${clusterId}|${slot.role}|${slot.pool}|${slot.index}|${attempt}`).digest('hex').slice(0, 64);
}

const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];

/** Not terminated (yet): the instance still occupies its slot. */
export const isLive = (i: InstanceInfo): boolean => LIVE_STATES.includes(i.state);

export class ClusterCloud {
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  readonly region: string;
  readonly cluster: Cluster;

  constructor(ec2: EC2Client, ssm: SSMClient, cluster: Cluster) {
    this.ec2 = ec2;
    this.ssm = ssm;
    this.region = cluster.spec.region;
    this.cluster = cluster;
  }

  private tags(extra: Tag[] = []): { Key: string; Value: string }[] {
    return [
      { Key: TAG.cluster, Value: this.cluster.name },
      { Key: TAG.clusterId, Value: this.cluster.id },
      { ...MANAGED_BY_TAG },
      ...extra.map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
    ];
  }

  /** Every instance of this cluster, terminated ones included (they carry past attempts). */
  async instances(): Promise<InstanceInfo[]> {
    const filters: Filter[] = [
      { Name: `tag:${TAG.clusterId}`, Values: [this.cluster.id] },
      { Name: 'tag:ManagedBy', Values: ['goman'] },
    ];
    const out: InstanceInfo[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.ec2.send(new DescribeInstancesCommand({ Filters: filters, NextToken }));
      for (const r of page.Reservations ?? []) {
        for (const i of r.Instances ?? []) {
          const tag = (k: string): string => i.Tags?.find((t) => t.Key === k)?.Value ?? '';
          const role = tag(TAG.role) === 'server' ? 'server' : 'agent';
          const pool = tag(TAG.pool);
          const index = Number(tag(TAG.index));
          if (!i.InstanceId || !Number.isInteger(index)) continue;
          out.push({
            id: i.InstanceId,
            state: i.State?.Name ?? 'unknown',
            privateIp: i.PrivateIpAddress,
            role,
            pool,
            index,
            key: slotKey({ role, pool, index }),
            attempt: Number(tag(TAG.attempt)) || 0,
            launchedAt: i.LaunchTime?.getTime() ?? 0,
          });
        }
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return out.sort((a, b) => a.launchedAt - b.launchedAt || a.id.localeCompare(b.id));
  }


  async vpcId(): Promise<string> {
    if (this.cluster.spec.network?.vpcId) return this.cluster.spec.network.vpcId;
    const out = await this.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'isDefault', Values: ['true'] }] }));
    const id = out.Vpcs?.[0]?.VpcId;
    if (!id) throw new ProviderError('NoDefaultVpc', `region ${this.region} has no default VPC; set spec.network.vpcId`, false);
    return id;
  }

  async findSecurityGroup(): Promise<string | undefined> {
    const out = await this.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [securityGroupName(this.cluster.name)] }, { Name: 'tag:ManagedBy', Values: ['goman'] }] }),
    );
    return out.SecurityGroups?.[0]?.GroupId;
  }

  /** `goman-<cluster>` with the K3s ports open to members of the group only. */
  async ensureSecurityGroup(): Promise<string> {
    const found = await this.findSecurityGroup();
    if (found) return found;
    const vpc = await this.vpcId();
    const created = await this.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: securityGroupName(this.cluster.name),
        Description: `goman K3s cluster ${this.cluster.name}`,
        VpcId: vpc,
        TagSpecifications: [{ ResourceType: 'security-group', Tags: this.tags() }],
      }),
    );
    const groupId = created.GroupId;
    if (!groupId) throw new Error('CreateSecurityGroup returned no id');
    const self = [{ GroupId: groupId }];
    const rule = (IpProtocol: string, FromPort: number, ToPort: number) => ({ IpProtocol, FromPort, ToPort, UserIdGroupPairs: self });
    try {
      await this.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: groupId,
          IpPermissions: [
            rule('tcp', 6443, 6443), // Kubernetes API
            rule('tcp', 10250, 10250), // kubelet
            rule('tcp', 2379, 2380), // embedded etcd (HA)
            rule('udp', 8472, 8472), // flannel VXLAN
            rule('udp', 51820, 51821), // flannel WireGuard
          ],
        }),
      );
    } catch (e) {
      if (awsErrorName(e) !== 'InvalidPermission.Duplicate') throw e;
    }
    return groupId;
  }

  /** True once gone; false while instances still hold it (DependencyViolation). */
  async deleteSecurityGroup(): Promise<boolean> {
    const id = await this.findSecurityGroup();
    if (!id) return true;
    try {
      await this.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
      return true;
    } catch (e) {
      if (awsErrorName(e) === 'DependencyViolation') return false;
      if (awsErrorName(e) === 'InvalidGroup.NotFound') return true;
      throw e;
    }
  }

  async launch(slot: Slot, opts: { imageId: string; instanceType: string; groupId: string; subnetId?: string | undefined; attempt: number }): Promise<string> {
    const out = await this.ec2.send(
      new RunInstancesCommand({
        ImageId: opts.imageId,
        InstanceType: opts.instanceType as 't3.medium',
        MinCount: 1,
        MaxCount: 1,
        ClientToken: clientToken(this.cluster.id, slot, opts.attempt),
        IamInstanceProfile: { Name: INSTANCE_PROFILE },
        MetadataOptions: { HttpTokens: 'required' },
        ...(opts.subnetId
          ? { NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: opts.subnetId, Groups: [opts.groupId] }] }
          : { SecurityGroupIds: [opts.groupId] }),
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: this.tags([
              { Key: 'Name', Value: nodeName(this.cluster.name, slot) },
              { Key: TAG.role, Value: slot.role },
              { Key: TAG.pool, Value: slot.pool },
              { Key: TAG.index, Value: String(slot.index) },
              { Key: TAG.attempt, Value: String(opts.attempt) },
            ]),
          },
        ],
      }),
    );
    const id = out.Instances?.[0]?.InstanceId;
    if (!id) throw new Error('RunInstances returned no instance');
    return id;
  }

  async start(ids: string[]): Promise<void> {
    if (ids.length) await this.ec2.send(new StartInstancesCommand({ InstanceIds: ids }));
  }

  async stop(ids: string[]): Promise<void> {
    if (ids.length) await this.ec2.send(new StopInstancesCommand({ InstanceIds: ids }));
  }

  async terminate(ids: string[]): Promise<void> {
    if (ids.length) await this.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
  }

  /** The join token: made once, kept as a SecureString; an existing one is never replaced. */
  async ensureToken(): Promise<void> {
    try {
      await this.ssm.send(
        new PutParameterCommand({
          Name: tokenParameter(this.cluster.name),
          Type: 'SecureString',
          Value: randomBytes(32).toString('hex'),
          Overwrite: false,
          Description: `K3s join token of goman cluster ${this.cluster.name}`,
          Tags: this.tags(),
        }),
      );
    } catch (e) {
      if (awsErrorName(e) !== 'ParameterAlreadyExists') throw e;
    }
  }

  async hasParameter(name: string): Promise<boolean> {
    try {
      await this.ssm.send(new GetParameterCommand({ Name: name }));
      return true;
    } catch (e) {
      if (awsErrorName(e) === 'ParameterNotFound') return false;
      throw e;
    }
  }

  async putKubeconfig(value: string): Promise<void> {
    await this.ssm.send(
      new PutParameterCommand({ Name: kubeconfigParameter(this.cluster.name), Type: 'SecureString', Value: value, Overwrite: true, Tier: value.length > 4096 ? 'Advanced' : 'Standard' }),
    );
  }

  async deleteParameters(): Promise<void> {
    await this.ssm.send(new DeleteParametersCommand({ Names: [tokenParameter(this.cluster.name), kubeconfigParameter(this.cluster.name)] }));
  }
}

const UBUNTU_AMI = '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id';
const AL2023_AMI = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';

/** Latest Ubuntu 24.04 from its public SSM parameter, else Amazon Linux 2023 (DESIGN §7). */
export async function latestImage(ssm: SSMClient): Promise<string> {
  for (const name of [UBUNTU_AMI, AL2023_AMI]) {
    try {
      const value = (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
      if (value) return value;
    } catch (e) {
      if (awsErrorName(e) !== 'ParameterNotFound') throw e;
    }
  }
  throw new ProviderError('NoImage', 'neither the Ubuntu 24.04 nor the Amazon Linux 2023 public AMI parameter exists in this region', false);
}

/** A failure with a stable code; retryable=false turns the cluster Failed until the spec changes. */
export class ProviderError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, retryable: boolean) {
    super(message);
    this.name = 'ProviderError';
    this.code = code;
    this.retryable = retryable;
  }
}

const PERMANENT = new Set([
  'InvalidParameterValue',
  'InvalidParameterCombination',
  'Unsupported',
  'InvalidAMIID.NotFound',
  'InvalidAMIID.Malformed',
  'InvalidSubnetID.NotFound',
  'InvalidVpcID.NotFound',
  'UnauthorizedOperation',
  'AccessDenied',
  'AccessDeniedException',
  'OptInRequired',
]);

export function classify(e: unknown): ProviderError {
  if (e instanceof ProviderError) return e;
  const name = awsErrorName(e) || 'InternalError';
  const message = e instanceof Error ? e.message : String(e);
  return new ProviderError(name.slice(0, 64), message.slice(0, 500), !PERMANENT.has(name));
}
