#include "gate/gate.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "report/gate_text.hpp"
#include "util/embedded.hpp"
#include "util/text.hpp"

namespace imagegate::gate {
namespace {

using registry::RepositoryStatus;
using registry::TagStatus;

const char* status_name(TagStatus s) {
  switch (s) {
    case TagStatus::kFound:
      return "found";
    case TagStatus::kMissing:
      return "missing";
    case TagStatus::kError:
      return "error";
  }
  return "error";
}

using report::short_digest;

class ImageJudge {
 public:
  ImageJudge(const manifest::Image& image, const registry::RepositoryResult& result,
             evidence::ImageEvidence& out)
      : image_(image), result_(result), out_(out) {}

  void judge() {
    out_.repository_uri = result_.uri.empty() ? image_.name : result_.uri;
    for (const auto& w : result_.warnings) add(findings::Severity::kWarning, w.code, "", w.message);
    if (result_.status == RepositoryStatus::kMissing) {
      absent_or_error(
          "REPOSITORY_MISSING", "",
          fmt::format("repository {} does not exist in the registry", util::quote(image_.name)));
      return;
    }
    if (result_.status == RepositoryStatus::kError) {
      add(findings::Severity::kError, code_or(result_.error.code, "BAD_RESPONSE"), "",
          fmt::format("repository {}: {}", util::quote(image_.name), result_.error.message));
      out_.status = "fail";
      return;
    }
    std::size_t missing = 0;
    out_.tags.reserve(result_.tags.size());
    for (const auto& t : result_.tags) {
      out_.tags.push_back({t.tag, status_name(t.status), t.digest, t.media_type});
      if (t.status == TagStatus::kMissing) ++missing;
    }
    if (result_.tags.empty()) {
      add(findings::Severity::kError, "BAD_RESPONSE", "", "the registry answered no tags");
      out_.status = "fail";
      return;
    }
    if (missing == result_.tags.size() && !image_.required) {
      absent_or_error("TAG_MISSING", "",
                      fmt::format("none of the {} expected tags is in {}; the image is optional",
                                  missing, util::quote(image_.name)));
      return;
    }
    for (const auto& t : result_.tags) {
      if (t.status == TagStatus::kMissing) {
        add(findings::Severity::kError, "TAG_MISSING", t.tag,
            fmt::format("tag {} is not in {}", util::quote(t.tag), util::quote(image_.name)));
      } else if (t.status == TagStatus::kError) {
        add(findings::Severity::kError, code_or(t.error.code, "BAD_RESPONSE"), t.tag,
            fmt::format("tag {}: {}", util::quote(t.tag), t.error.message));
      }
    }
    check_digests();
    check_pullable();
    check_platforms();
    out_.status = has_error_ ? "fail" : "pass";
    if (has_error_) out_.digest.clear();
  }

 private:
  static std::string code_or(const std::string& code, const char* fallback) {
    return code.empty() ? fallback : code;
  }

  void add(findings::Severity severity, std::string code, std::string subject,
           std::string message) {
    if (severity == findings::Severity::kError) has_error_ = true;
    out_.findings.push_back(
        {severity, std::move(code), image_.id, std::move(subject), std::move(message)});
  }

  // Missing entirely: an error for a required image, a warning ("absent") for an optional one.
  void absent_or_error(std::string code, std::string subject, std::string message) {
    if (image_.required) {
      add(findings::Severity::kError, std::move(code), std::move(subject), std::move(message));
      out_.status = "fail";
    } else {
      add(findings::Severity::kWarning, std::move(code), std::move(subject), std::move(message));
      out_.status = "absent";
    }
  }

  void check_digests() {
    std::map<std::string, std::vector<std::string>> by_digest;
    for (const auto& t : result_.tags) {
      if (t.status == TagStatus::kFound) by_digest[t.digest].push_back(t.tag);
    }
    if (by_digest.size() == 1) {
      out_.digest = by_digest.begin()->first;
      return;
    }
    if (by_digest.empty()) return;
    std::vector<std::string> parts;
    for (const auto& t : result_.tags) {
      if (t.status == TagStatus::kFound) {
        parts.push_back(fmt::format("{} -> {}", t.tag, short_digest(t.digest)));
      }
    }
    add(findings::Severity::kError, "DIGEST_MISMATCH", "",
        fmt::format("the tags of one build name {} different digests: {}", by_digest.size(),
                    util::join(parts, ", ")));
  }

  // ECR keeps an ARCHIVED image listed, and BatchGetImage still answers it, but a task cannot
  // pull it until it is restored: for a required image that is no pass.
  void check_pullable() {
    std::set<std::string> reported;
    for (const auto& t : result_.tags) {
      if (t.status != TagStatus::kFound || t.image_status.empty() || t.image_status == "ACTIVE" ||
          !reported.insert(t.digest).second) {
        continue;
      }
      const std::string why =
          t.image_status == "NOT_LISTED"
              ? "DescribeImages does not list it, so it is not an ACTIVE image"
              : fmt::format("its imageStatus is {}, not ACTIVE", t.image_status);
      add(image_.required ? findings::Severity::kError : findings::Severity::kWarning,
          "IMAGE_NOT_PULLABLE", t.tag,
          fmt::format(
              "{} in {} cannot be pulled: {}{}", short_digest(t.digest), util::quote(image_.name),
              why,
              t.image_status == "ARCHIVED" ? " (restore it with UpdateImageStorageClass)" : ""));
    }
  }

  void check_platforms() {
    if (image_.platforms.empty() || out_.digest.empty()) return;
    out_.required_platforms = image_.platforms;
    std::vector<registry::Platform> found;
    const std::vector<registry::ChildCheck>* children = nullptr;
    for (const auto& t : result_.tags) {
      if (t.status == TagStatus::kFound && t.digest == out_.digest) {
        found = t.platforms;
        children = &t.children;
        break;
      }
    }
    for (const auto& p : found) out_.platforms.push_back(p.to_string());
    for (const auto& wanted_text : image_.platforms) {
      const auto wanted = registry::Platform::parse(wanted_text);
      bool ok = false;
      for (const auto& p : found) ok = ok || (wanted && p.satisfies(*wanted));
      if (!ok) {
        add(findings::Severity::kError, "PLATFORM_MISSING", wanted_text,
            fmt::format("platform {} is not provided by {}; found: {}", wanted_text,
                        short_digest(out_.digest),
                        out_.platforms.empty() ? "none" : util::join(out_.platforms, ", ")));
        continue;
      }
      // The index lists it; the child manifest and its config must bear that out.
      for (const auto& check : children ? *children : std::vector<registry::ChildCheck>{}) {
        if (!wanted || !(check.wanted == *wanted) || check.error.code.empty()) continue;
        add(findings::Severity::kError, check.error.code, wanted_text,
            fmt::format("platform {} of {}: {}", wanted_text, short_digest(out_.digest),
                        check.error.message));
      }
    }
  }

  const manifest::Image& image_;
  const registry::RepositoryResult& result_;
  evidence::ImageEvidence& out_;
  bool has_error_ = false;
};

}  // namespace

std::vector<registry::TagQuery> build_queries(const manifest::Manifest& manifest,
                                              const std::vector<std::string>& tags) {
  std::vector<registry::TagQuery> queries;
  for (const auto& image : manifest.images) {
    std::vector<registry::Platform> platforms;
    for (const auto& text : image.platforms) {
      if (auto p = registry::Platform::parse(text)) platforms.push_back(*p);
    }
    queries.push_back({image.name, tags, !image.platforms.empty(), std::move(platforms)});
  }
  return queries;
}

evidence::Evidence evaluate(const GateInput& in) {
  evidence::Evidence e;
  e.tool = fmt::format("imagegate {} ({})", embedded::kVersion, embedded::kCommit);
  e.manifest_path = in.manifest->path.string();
  e.manifest_sha256 = in.manifest->sha256;
  e.env = in.env;
  e.sha = in.sha;
  e.registry = in.registry;
  e.time = evidence::now_rfc3339();
  bool failed = false;
  e.images.reserve(in.manifest->images.size());
  for (std::size_t i = 0; i < in.manifest->images.size(); ++i) {
    const auto& image = in.manifest->images[i];
    evidence::ImageEvidence out;
    out.id = image.id;
    out.repository = image.name;
    out.container = image.container;
    out.required = image.required;
    if (i < in.results.size()) {
      ImageJudge(image, in.results[i], out).judge();
    } else {
      out.status = "fail";
      out.findings.push_back({findings::Severity::kError, "BAD_RESPONSE", image.id, "",
                              "the registry gave no answer for this image"});
    }
    for (const auto& f : out.findings) {
      e.findings.push_back(f);
      failed = failed || f.severity == findings::Severity::kError;
    }
    e.images.push_back(std::move(out));
  }
  for (const auto& x : in.manifest->excluded) e.excluded.push_back({x.id, x.container, x.reason});
  e.verdict = failed ? "fail" : "pass";
  return e;
}

}  // namespace imagegate::gate
