// The AWS SDK for JavaScript v3 (@aws-sdk/client-ecs and @aws-sdk/client-ecr, pinned, installed
// by scripts/bootstrap into build/tools/aws-sdk) as a real client of the fake AWS: it signs with
// lower-case header names and parses timestamps as epoch seconds, and it must accept every answer
// the fake gives, for every operation the fake serves.
//
//   node aws_sdk.js ENDPOINT_URL
//       runs every ECR and ECS operation against ENDPOINT_URL (credentials and region from
//       AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION) and prints one JSON object per
//       line: {"operation", "ok": true, "summary": {...}} or {"operation", "ok": false, "error"}.
'use strict';
const path = require('path');
const modules = path.join(process.env.AWS_SDK_TOOLS || '', 'node_modules');
const ecs = require(path.join(modules, '@aws-sdk/client-ecs'));
const ecr = require(path.join(modules, '@aws-sdk/client-ecr'));

const endpoint = process.argv[2];
const config = {
  endpoint,
  region: process.env.AWS_REGION,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  },
  maxAttempts: 1,
};
const ecsClient = new ecs.ECSClient(config);
const ecrClient = new ecr.ECRClient(config);

const iso = (d) => (d instanceof Date ? d.toISOString() : `not a Date: ${typeof d}`);

async function run(operation, client, Command, input, summarize) {
  try {
    const out = await client.send(new Command(input));
    console.log(JSON.stringify({ operation, ok: true, summary: summarize(out) }));
    return out;
  } catch (e) {
    console.log(JSON.stringify({ operation, ok: false, error: `${e.name}: ${e.message}` }));
    return undefined;
  }
}

async function main() {
  const repo = 'sdk/app';
  const config_blob = JSON.stringify({ architecture: 'amd64', os: 'linux' });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config_blob.length,
      digest: process.env.SDK_CONFIG_DIGEST },
    layers: [],
  });
  await run('CreateRepository', ecrClient, ecr.CreateRepositoryCommand,
    { repositoryName: repo, imageTagMutability: 'IMMUTABLE' },
    (o) => ({ createdAt: iso(o.repository.createdAt), uri: o.repository.repositoryUri }));
  const put = await run('PutImage', ecrClient, ecr.PutImageCommand,
    { repositoryName: repo, imageTag: 'v1', imageManifest: manifest },
    (o) => ({ digest: o.image.imageId.imageDigest }));
  await run('DescribeRepositories', ecrClient, ecr.DescribeRepositoriesCommand,
    { repositoryNames: [repo] }, (o) => ({ count: o.repositories.length }));
  await run('BatchGetImage', ecrClient, ecr.BatchGetImageCommand,
    { repositoryName: repo, imageIds: [{ imageTag: 'v1' }, { imageTag: 'nope' }] },
    (o) => ({ images: o.images.length, failure: o.failures[0].failureCode }));
  await run('DescribeImages', ecrClient, ecr.DescribeImagesCommand,
    { repositoryName: 'afu9/archived', imageIds: [{ imageTag: 'prod' }] },
    (o) => ({ status: o.imageDetails[0].imageStatus, pushedAt: iso(o.imageDetails[0].imagePushedAt) }));
  await run('GetAuthorizationToken', ecrClient, ecr.GetAuthorizationTokenCommand, {},
    (o) => ({ expiresAt: iso(o.authorizationData[0].expiresAt) }));
  await run('GetDownloadUrlForLayer', ecrClient, ecr.GetDownloadUrlForLayerCommand,
    { repositoryName: 'afu9/archived', layerDigest: process.env.SDK_CONFIG_DIGEST },
    (o) => ({ digest: o.layerDigest, hasUrl: typeof o.downloadUrl === 'string' }));
  for (const tag of ['basic', 'enhanced']) {
    await run(`DescribeImageScanFindings(${tag})`, ecrClient, ecr.DescribeImageScanFindingsCommand,
      { repositoryName: 'afu9/scanned', imageId: { imageTag: tag } },
      (o) => ({
        status: o.imageScanStatus.status,
        completedAt: iso(o.imageScanFindings.imageScanCompletedAt),
        counts: o.imageScanFindings.findingSeverityCounts,
        basic: (o.imageScanFindings.findings || []).length,
        enhanced: (o.imageScanFindings.enhancedFindings || []).map((f) => f.severity),
      }));
  }

  // Both findings lists paginated: the SDK's own paginator follows nextToken (maxResults 2).
  {
    const operation = 'DescribeImageScanFindings(pages)';
    try {
      const pages = [];
      for await (const page of ecr.paginateDescribeImageScanFindings(
        { client: ecrClient, pageSize: 2 },
        { repositoryName: 'afu9/scanned', imageId: { imageTag: 'paged' } })) {
        pages.push(page);
      }
      console.log(JSON.stringify({ operation, ok: true, summary: {
        pages: pages.length,
        severities: pages.flatMap((p) => (p.imageScanFindings.findings || []).map((f) => f.severity)),
        counts: pages.map((p) => p.imageScanFindings.findingSeverityCounts.HIGH),
      } }));
    } catch (e) {
      console.log(JSON.stringify({ operation, ok: false, error: `${e.name}: ${e.message}` }));
    }
  }

  const registered = await run('RegisterTaskDefinition', ecsClient, ecs.RegisterTaskDefinitionCommand,
    { family: 'sdk', containerDefinitions: [{ name: 'app', image: `x/${repo}:v1` }],
      runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' } },
    (o) => ({ revision: o.taskDefinition.revision, registeredAt: iso(o.taskDefinition.registeredAt) }));
  await run('DescribeTaskDefinition', ecsClient, ecs.DescribeTaskDefinitionCommand,
    { taskDefinition: 'sdk:1' },
    (o) => ({ arch: o.taskDefinition.runtimePlatform.cpuArchitecture }));
  await run('CreateService', ecsClient, ecs.CreateServiceCommand,
    { cluster: 'afu9', serviceName: 'sdk', taskDefinition: 'sdk:1', desiredCount: 1 },
    (o) => ({ createdAt: iso(o.service.createdAt), status: o.service.status }));
  await run('UpdateService', ecsClient, ecs.UpdateServiceCommand,
    { cluster: 'afu9', service: 'sdk', desiredCount: 1 }, (o) => ({ name: o.service.serviceName }));
  await run('DescribeServices', ecsClient, ecs.DescribeServicesCommand,
    { cluster: 'afu9', services: ['sdk', 'web', 'missing'] },
    (o) => ({ services: o.services.length, failure: o.failures[0].reason,
      deploymentCreatedAt: iso(o.services[0].deployments[0].createdAt) }));
  const tasks = await run('ListTasks', ecsClient, ecs.ListTasksCommand,
    { cluster: 'afu9', serviceName: 'sdk' }, (o) => ({ count: o.taskArns.length }));
  await run('DescribeTasks', ecsClient, ecs.DescribeTasksCommand,
    { cluster: 'afu9', tasks: tasks ? tasks.taskArns : ['none'] },
    (o) => ({ createdAt: iso(o.tasks[0].createdAt), digest: o.tasks[0].containers[0].imageDigest || null }));
  const listed = await run('ListServiceDeployments', ecsClient, ecs.ListServiceDeploymentsCommand,
    { cluster: 'afu9', service: 'web' },
    (o) => ({ count: o.serviceDeployments.length, newest: o.serviceDeployments[0].status,
      createdAt: iso(o.serviceDeployments[0].createdAt),
      target: o.serviceDeployments[0].targetServiceRevisionArn }));
  const arns = listed ? listed.serviceDeployments.map((d) => d.serviceDeploymentArn) : ['none'];
  await run('DescribeServiceDeployments', ecsClient, ecs.DescribeServiceDeploymentsCommand,
    { serviceDeploymentArns: [...arns, 'arn:aws:ecs:eu-central-1:123456789012:service-deployment/afu9/web/none'] },
    (o) => ({ statuses: o.serviceDeployments.map((d) => d.status),
      rollbackStartedAt: iso(o.serviceDeployments[0].rollback.startedAt),
      rolledBackTo: o.serviceDeployments[0].rollback.serviceRevisionArn,
      breaker: o.serviceDeployments[0].deploymentCircuitBreaker.status,
      failure: o.failures[0].reason }));
  await run('DescribeServiceRevisions', ecsClient, ecs.DescribeServiceRevisionsCommand,
    { serviceRevisionArns: ['arn:aws:ecs:eu-central-1:123456789012:service-revision/afu9/web/2'] },
    (o) => ({ createdAt: iso(o.serviceRevisions[0].createdAt),
      images: o.serviceRevisions[0].containerImages.map((c) => `${c.containerName}=${c.imageDigest}`) }));
  void put;
  void registered;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
