// JUnit XML (the Jenkins/Ant shape that CI test-report viewers read): one testsuite per command,
// one testcase per image x check. For gate: "tag <tag>" per expected tag, "digest consistency",
// "platforms" when the image requires some, "provenance" when the gate judged any image's
// provenance (revision, signatures, attestations: skipped for an image it did not judge); findings
// that fit none of those (and every finding
// of the other commands) get a testcase named after their subject. Errors are <failure>s;
// warnings are <system-out>, never failures; an absent optional image is <skipped>.
#include <fmt/format.h>

#include <set>

#include "report/escape.hpp"
#include "report/matrix.hpp"
#include "report/reports.hpp"

namespace imagegate::report {
namespace {

struct Case {
  std::string classname;
  std::string name;
  std::vector<Finding> failures;
  std::string skipped;  // non-empty: skipped with this message
  std::vector<std::string> out;
};

std::string describe(const Finding& f) {
  std::string text = std::string(to_string(f.severity)) + "[" + f.code + "]";
  if (!f.image_id.empty()) text += " " + f.image_id;
  if (!f.subject.empty()) text += " " + f.subject;
  return text + ": " + f.message;
}

class SuiteBuilder {
 public:
  explicit SuiteBuilder(std::string command) : command_(std::move(command)) {}

  void gate(const evidence::Evidence& e, const Findings& all) {
    const auto matrix = build_matrix(e);
    for (const auto& row : matrix.rows) image_cases(matrix, row);
    // Findings not about an image of the evidence (another command's, or a global one).
    for (const auto& f : all.items()) {
      if (e.find_image(f.image_id) == nullptr) generic(f);
    }
  }

  void findings(const Findings& all) {
    for (const auto& f : all.items()) generic(f);
  }

  bool empty() const { return cases_.empty(); }
  void add_pass(std::string name) {
    cases_.push_back({classname(""), std::move(name), {}, {}, {}});
  }
  const std::vector<Case>& cases() const { return cases_; }

 private:
  std::string classname(const std::string& image) const {
    return "imagegate." + command_ + (image.empty() ? "" : "." + image);
  }

  void image_cases(const GateMatrix& matrix, const MatrixRow& row) {
    const auto& image = *row.image;
    std::set<const Finding*> used;
    for (std::size_t i = 0; i < matrix.tags.size(); ++i) {
      const auto& cell = row.cells[i];
      Case c{classname(image.id), "tag " + matrix.tags[i], {}, {}, {}};
      if (cell.state == CellState::kVerified) {
        c.out.push_back("digest " + cell.digest);
      } else if (cell.state == CellState::kAbsent) {
        c.skipped =
            cell.finding != nullptr ? cell.finding->message : "the optional image is absent";
        if (cell.finding != nullptr) used.insert(cell.finding);
      } else if (cell.finding != nullptr) {
        c.failures.push_back(*cell.finding);
        used.insert(cell.finding);
      } else {
        c.failures.push_back({Severity::kError, cell.code, image.id, matrix.tags[i],
                              "tag " + matrix.tags[i] + " was not verified"});
      }
      cases_.push_back(std::move(c));
    }
    Case digest{classname(image.id), "digest consistency", {}, {}, {}};
    Case platforms{classname(image.id), "platforms", {}, {}, {}};
    for (const auto& f : image.findings) {
      if (f.code == "DIGEST_MISMATCH") digest.failures.push_back(f), used.insert(&f);
      if (f.code == "PLATFORM_MISSING" || f.code == "PLATFORM_MISMATCH" ||
          f.code == "CHILD_MISSING") {
        platforms.failures.push_back(f), used.insert(&f);
      }
    }
    // A digest whose provenance failed is kept in provenance.digest only.
    const std::string& found = image.digest.empty() ? image.provenance.digest : image.digest;
    if (digest.failures.empty() && !found.empty()) {
      digest.out.push_back("every tag names " + found);
    } else if (digest.failures.empty()) {
      digest.skipped = "no tag was found, so there is no digest to compare";
    }
    cases_.push_back(std::move(digest));
    if (!image.required_platforms.empty() || !platforms.failures.empty()) {
      platforms.out.push_back("found: " + util_join(image.platforms));
      cases_.push_back(std::move(platforms));
    }
    if (matrix.provenance) cases_.push_back(provenance_case(image, used));
    for (const auto& f : image.findings) {
      if (!used.contains(&f)) generic(f);
    }
  }

  // The provenance step's verdict on the image: its findings (errors fail, warnings are output)
  // and what was verified.
  Case provenance_case(const evidence::ImageEvidence& image, std::set<const Finding*>& used) {
    Case c{classname(image.id), "provenance", {}, {}, {}};
    const auto& p = image.provenance;
    if (!p.checked) {
      c.skipped = image.status == "pass" ? "no provenance policy applies to the image"
                                         : "the tags did not pass, so provenance was not judged";
      return c;
    }
    for (const auto& f : image.findings) {
      if (!is_provenance_finding(f)) continue;
      used.insert(&f);
      if (f.severity == Severity::kError) {
        c.failures.push_back(f);
      } else {
        c.out.push_back(describe(f));
      }
    }
    c.out.push_back("digest " + p.digest + ", revision " + p.revision_policy +
                    (p.revision.empty() ? "" : ": " + p.revision));
    for (const auto& r : p.revisions) c.out.push_back("revision " + r.value + " (" + r.where + ")");
    for (const auto& s : p.signatures) {
      c.out.push_back("signature by key " + s.key_fingerprint + " (" + s.where + ")");
    }
    for (const auto& a : p.attestations) {
      c.out.push_back("attestation " + a.predicate_type + " " + a.digest + " (" + a.where + ")");
    }
    return c;
  }

  static std::string util_join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
    return out.empty() ? "none" : out;
  }

  // One testcase per (image, subject); a finding without a subject is named by its code.
  void generic(const Finding& f) {
    const std::string name = f.subject.empty() ? f.code : f.subject;
    const std::string cls = classname(f.image_id);
    Case* target = nullptr;
    for (auto& c : cases_) {
      if (c.classname == cls && c.name == name) target = &c;
    }
    if (target == nullptr) target = &cases_.emplace_back(Case{cls, name, {}, {}, {}});
    if (f.severity == Severity::kError) {
      target->failures.push_back(f);
    } else {
      target->out.push_back(describe(f));
    }
  }

  std::string command_;
  std::vector<Case> cases_;
};

std::string case_xml(const Case& c) {
  std::string out = fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                                xml_escape(c.classname), xml_escape(c.name));
  if (c.failures.empty() && c.skipped.empty() && c.out.empty()) return out + "/>\n";
  out += ">\n";
  if (!c.skipped.empty()) out += "      <skipped message=\"" + xml_escape(c.skipped) + "\"/>\n";
  for (const auto& f : c.failures) {
    out += fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                       xml_escape(f.message), xml_escape(f.code), xml_escape(describe(f)));
  }
  if (!c.out.empty()) {
    std::string text;
    for (const auto& line : c.out) text += xml_escape(line) + "\n";
    out += "      <system-out>" + text + "</system-out>\n";
  }
  return out + "    </testcase>\n";
}

std::string property(std::string_view name, std::string_view value) {
  return fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", xml_escape(name),
                     xml_escape(value));
}

}  // namespace

std::string render_junit(const ReportInput& input) {
  SuiteBuilder builder(input.command);
  if (input.evidence) {
    builder.gate(*input.evidence, input.findings);
  } else {
    builder.findings(input.findings);
  }
  if (builder.empty()) builder.add_pass(input.command);
  std::size_t failures = 0;
  std::size_t skipped = 0;
  std::string cases;
  for (const auto& c : builder.cases()) {
    failures += c.failures.empty() ? 0 : 1;
    skipped += c.skipped.empty() ? 0 : 1;
    cases += case_xml(c);
  }
  const auto tests = builder.cases().size();
  std::string props = property("verdict", input.verdict);
  if (input.evidence) {
    props += property("env", input.evidence->env) + property("sha", input.evidence->sha) +
             property("registry", input.evidence->registry);
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"imagegate\" tests=\"{0}\" failures=\"{1}\" errors=\"0\" "
      "skipped=\"{2}\" time=\"0\">\n"
      "  <testsuite name=\"imagegate {3}\" tests=\"{0}\" failures=\"{1}\" errors=\"0\" "
      "skipped=\"{2}\" time=\"0\">\n"
      "    <properties>\n{4}    </properties>\n{5}  </testsuite>\n</testsuites>\n",
      tests, failures, skipped, xml_escape(input.command), props, cases);
}

}  // namespace imagegate::report
