// Rendering a comparison: a table for people, markdown for CI comments, JSON for machines (the
// plots renderer reads its keys). Pure functions; they do not throw except std::bad_alloc.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "compare/gate.hpp"
#include "compare/same_answer.hpp"

namespace ipcbench::compare {

// The JSON document described in compare/README.md; keys in a fixed order.
nlohmann::ordered_json to_json(const comparison& result);

// Aligned text table, then what was not compared, then the summary line. `colour` adds ANSI
// colours to verdicts.
std::string render_table(const comparison& result, bool colour);

// GitHub-flavoured markdown for a CI comment, ending with the summary line.
std::string render_markdown(const comparison& result);

// "N regressions, M improvements, K unchanged, X missing, Y new[, Z not comparable]"
std::string summary_line(const comparison& result);
// "Gate family (default): N tested metrics; smallest worsening it would detect ..."
std::string family_line(const comparison& result);

// --same-answer: the agreement figures, one plainly labelled line each.
std::string render_same_answer(const same_answer_figures& figures);

// --same-answer --format json: the same figures; keys as in compare/README.md.
nlohmann::ordered_json same_answer_json(const same_answer_figures& figures);

}  // namespace ipcbench::compare
