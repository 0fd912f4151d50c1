// fake_aws: a stand-in for AWS ECR, ECS and STS on 127.0.0.1, for tests only.
//
// Usage: fake_aws [--port N] [--port-file FILE] [--state FILE] [--verbose]
//   --port 0 (default) picks a free port. The chosen port is the first line on stdout (flushed)
//   and, with --port-file, written to FILE (atomically: written beside it, then renamed).
//   --verbose logs one line per request to stderr: operation, HTTP status, request id. Never
//   headers, signatures, tokens or secrets.
//
// Protocols, as botocore's models describe them (service-2.json of ecr/2015-09-21,
// ecs/2014-11-13, sts/2011-06-15):
//   POST / with X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Op> or
//   AmazonEC2ContainerServiceV20141113.<Op> (AWS JSON 1.1; errors are HTTP 4xx/5xx with
//   {"__type", "message"}); POST / without X-Amz-Target is STS's query protocol (form body
//   Action=...&Version=2011-06-15, XML answers and <ErrorResponse> errors). Every answer carries
//   x-amzn-RequestId and Date (the fake's clock).
//   ECR: CreateRepository PutImage DescribeRepositories BatchGetImage DescribeImages
//        GetAuthorizationToken GetDownloadUrlForLayer DescribeImageScanFindings (aws/ecr_scan.hpp)
//   ECS: RegisterTaskDefinition DescribeTaskDefinition CreateService UpdateService
//        DescribeServices ListTasks DescribeTasks ListServiceDeployments
//        DescribeServiceDeployments DescribeServiceRevisions (aws/ecs_deployments.hpp)
//   STS: AssumeRoleWithWebIdentity (unsigned) AssumeRole GetCallerIdentity
//   SSO portal: GET /federation/credentials (GetRoleCredentials, bearer token; sso.hpp)
//   Container credentials: GET /_fake/container-credentials (identity.hpp)
//   Roles, SSO assignments and per-credential services/accounts: tests/fakes/aws/identity.hpp.
//
// Every request except AssumeRoleWithWebIdentity and the SSO portal must be SigV4-signed with
// credentials in the state: unknown key -> UnrecognizedClientException (STS: InvalidClientTokenId),
// wrong signature, scope or a clock skew over 15 minutes -> 403 InvalidSignatureException (STS:
// SignatureDoesNotMatch), a session-token credential without its X-Amz-Security-Token ->
// UnrecognizedClientException, past its expiration -> ExpiredTokenException (STS: ExpiredToken).
//
// State document (--state FILE, GET/POST /_fake/state), every key optional:
//   {"account": "123456789012", "region": "eu-central-1",
//    "credentials": [{"accessKeyId", "secretAccessKey", "sessionToken"?, "expiration"? (ISO 8601),
//                     "arn"?, "userId"?}],
//    "webIdentityToken": "...",        // the one token AssumeRoleWithWebIdentity accepts
//    "ecrPassword": "...",             // GetAuthorizationToken answers base64("AWS:" + this)
//    "listTasksPageSize": 100,         // ListTasks pages are never larger: forces pagination
//    "scanFindingsPageSize": 1000,     // nor DescribeImageScanFindings' findings pages
//    "repositories": {"<name>": {"imageTagMutability": "MUTABLE", "images": [
//        {"manifest": "<exact bytes>", "mediaType"?: "...", "tags": ["..."],
//         "imageStatus"?: "ACTIVE|ARCHIVED|ACTIVATING", "scan"?: {"imageScanStatus": {...},
//         "imageScanFindings": {...}}}]}},
//    "unavailableOperations": {"<Op>": "AccessDeniedException"|"UnknownOperationException"},
//    "taskDefinitions": [{"family", "revision"?, "containerDefinitions": [...], ...}],
//    "clusters": {"<name>": {"services": {"<name>": {
//        "taskDefinition": "family[:rev]|arn", "desiredCount": 1,
//        "deployments"?: [{"status": "PRIMARY|ACTIVE", "taskDefinition", "desiredCount",
//                          "runningCount", "pendingCount", "failedTasks", "rolloutState",
//                          "rolloutStateReason", "completeAfterDescribes"}],
//        "tasks"?: [{"taskDefinitionArn", "lastStatus", "runningAfterDescribes"?,
//                    "containers"?: [{"name", "image", "imageDigest"}]}],
//        "serviceDeployments"?: [...], "serviceRevisions"?: [...]  (aws/ecs_deployments.hpp),
//        "onUpdate"?: {"rolloutState", "rolloutStateReason", "completeAfterDescribes"}}}}}}
//   Left out, deployments default to one PRIMARY COMPLETED deployment and tasks to runningCount
//   tasks per deployment; a task's container digests default to what ECS would resolve (the
//   image's @sha256: digest, else the ECR tag's digest in this state, else none).
//   completeAfterDescribes: K -> the next K DescribeServices still show IN_PROGRESS, the one after
//   completes the rollout (old deployments and their tasks are replaced).
//
// Control API (same port, JSON):
//   GET  /_fake/state                 the whole state, fully expanded
//   POST /_fake/state                 replace it; POST /_fake/state?merge=1 applies the body as
//                                     a JSON merge patch (RFC 7386) to the current state
//   GET  /_fake/counters              {"<Operation>": requests, ...} (failed ones included)
//   POST /_fake/reset-counters        (also empties the request log)
//   GET  /_fake/requests              [{"operation", "accessKeyId", "status", ...}]: who called
//                                     what, never a secret
//   GET|POST /_fake/faults            {"throttle": {"count": N, "operation"?: "Op"},
//                                      "internalFailure": {"count": N, "operation"?: "Op"},
//                                      "delayMs": M}: the next N (matching) calls get
//                                     ThrottlingException (400) / InternalFailure (500); every
//                                     AWS answer is delayed by M ms;
//                                     "clockOffsetSeconds": S runs the fake's clock (signature
//                                     time checks, the Date header) S seconds off.
//   Bad control input answers 400 {"error": "..."}; a bad --state file exits 2.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "aws/server.hpp"

namespace {

using imagegate::fake_aws::Json;

int run(int argc, char** argv) {
  CLI::App app{"fake AWS (ECR, ECS, STS) for tests"};
  int port = 0;
  std::string port_file, state_file;
  bool verbose = false;
  app.add_option("--port", port, "port on 127.0.0.1 (0 = pick a free one)");
  app.add_option("--port-file", port_file, "write the chosen port to this file");
  app.add_option("--state", state_file, "initial state (JSON)");
  app.add_flag("--verbose", verbose, "log one line per request to stderr");
  CLI11_PARSE(app, argc, argv);

  imagegate::fake_aws::State state;
  if (!state_file.empty()) {
    std::ifstream in(state_file);
    if (!in) {
      std::cerr << "fake_aws: cannot read --state " << state_file << "\n";
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    try {
      state = imagegate::fake_aws::parse_state(Json::parse(text.str()));
    } catch (const std::exception& e) {
      std::cerr << "fake_aws: --state " << state_file << ": " << e.what() << "\n";
      return 2;
    }
  }

  httplib::Server server;
  // httplib serves each keep-alive connection on one pool thread until it idles out (5 s). Its
  // default pool (8 threads here) is smaller than a client's connection pool (16 by default), so
  // the connections beyond 8 would wait 5 s for a thread; AWS serves them all at once.
  server.new_task_queue = [] { return new httplib::ThreadPool(64); };
  imagegate::fake_aws::FakeAws fake(std::move(state), verbose);
  fake.install(server);
  int bound = port == 0 ? server.bind_to_any_port("127.0.0.1")
                        : (server.bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound <= 0) {
    std::cerr << "fake_aws: cannot listen on 127.0.0.1:" << port << "\n";
    return 1;
  }
  std::cout << bound << std::endl;
  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << bound << "\n";
    std::filesystem::rename(tmp, port_file);
  }
  return server.listen_after_bind() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  return run(argc, argv);
}
