#pragma once
// Aligned plain-text tables for the text output of control commands (`show pools`, ...):
//   NAME  ALGORITHM    SERVERS
//   app   round_robin  2/3
//   api   least_conn   1/1
// Columns are separated by two spaces and padded to the widest cell (width counted in UTF-8 code
// points); the last column is not padded, so lines carry no trailing spaces. Every line ends with
// "\n". Rows shorter than the header are padded with empty cells; extra cells get their own
// (headerless) columns. An empty header prints no header line.

#include <string>
#include <vector>

namespace sluice::control {

std::string renderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

}  // namespace sluice::control
