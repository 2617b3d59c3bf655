#include "control/text_table.h"

#include <gtest/gtest.h>

namespace sluice::control {
namespace {

TEST(TextTable, AlignsColumnsToTheWidestCell) {
    const std::string table =
        renderTable({"POOL", "ALGORITHM", "SERVERS"},
                    {{"app", "round_robin", "2/3"}, {"api-internal", "least_conn", "10/10"}});
    EXPECT_EQ(table,
              "POOL          ALGORITHM    SERVERS\n"
              "app           round_robin  2/3\n"
              "api-internal  least_conn   10/10\n");
}

TEST(TextTable, HeaderOnlyWhenNoRows) {
    EXPECT_EQ(renderTable({"NAME", "STATE"}, {}), "NAME  STATE\n");
}

TEST(TextTable, NoTrailingSpacesOnShortRowsOrEmptyLastCells) {
    const std::string table = renderTable({"A", "B", "C"}, {{"1"}, {"22", "", ""}, {"3", "x"}});
    EXPECT_EQ(table,
              "A   B  C\n"
              "1\n"
              "22\n"
              "3   x\n");
}

TEST(TextTable, EmptyMiddleCellsKeepAlignment) {
    EXPECT_EQ(renderTable({"A", "B", "C"}, {{"1", "", "z"}}),
              "A  B  C\n"
              "1     z\n");
}

TEST(TextTable, ExtraCellsGetTheirOwnColumns) {
    EXPECT_EQ(renderTable({"A"}, {{"1", "extra"}, {"22"}}),
              "A\n"
              "1   extra\n"
              "22\n");
}

TEST(TextTable, CountsUtf8CodePointsNotBytes) {
    EXPECT_EQ(renderTable({"NAME", "X"}, {{"caf\xC3\xA9", "1"}}),
              "NAME  X\n"
              "caf\xC3\xA9  1\n");
}

TEST(TextTable, EmptyHeaderPrintsRowsOnly) { EXPECT_EQ(renderTable({}, {{"a", "b"}}), "a  b\n"); }

}  // namespace
}  // namespace sluice::control
