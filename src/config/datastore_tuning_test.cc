// A datastore's tuning property string: what parses, what is refused (naming the key), that it
// formats back to what parses to the same, and that it changes only the GC settings it names.

#include "config/datastore_tuning.h"

#include <gtest/gtest.h>

namespace cairn::config {
namespace {

TEST(DatastoreTuningTest, ParsesEveryKeyAndFormatsBackToTheSame) {
  auto tuning =
      ParseDatastoreTuning("gc-cache-capacity=0,gc-atime-safety-check=false,gc-atime-cutoff=30");
  ASSERT_TRUE(tuning.ok()) << tuning.status().ToString();
  EXPECT_EQ(tuning->gc_atime_cutoff_minutes, 30);
  EXPECT_EQ(tuning->gc_atime_safety_check, false);
  EXPECT_EQ(tuning->gc_cache_capacity, 0u);
  std::string text = FormatDatastoreTuning(*tuning);
  EXPECT_EQ(text, "gc-atime-cutoff=30,gc-atime-safety-check=0,gc-cache-capacity=0");
  EXPECT_EQ(*ParseDatastoreTuning(text), *tuning);

  auto empty = ParseDatastoreTuning("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(FormatDatastoreTuning(*empty), "");
  EXPECT_EQ(ParseDatastoreTuning("gc-atime-safety-check=yes")->gc_atime_safety_check, true);
}

TEST(DatastoreTuningTest, RefusesUnknownKeysBadValuesAndRangesNamingTheKey) {
  struct Case {
    const char* text;
    const char* named;
  };
  for (const Case& c :
       {Case{"gc-atime-cutoff=0", "gc-atime-cutoff"},
        Case{"gc-atime-cutoff=2881", "gc-atime-cutoff"},
        Case{"gc-atime-cutoff=-5", "gc-atime-cutoff"},
        Case{"gc-atime-cutoff=10m", "gc-atime-cutoff"}, Case{"gc-atime-cutoff=", "gc-atime-cutoff"},
        Case{"gc-cache-capacity=8388609", "gc-cache-capacity"},
        Case{"gc-atime-safety-check=maybe", "gc-atime-safety-check"},
        Case{"gc-atime-cutoff=5,gc-atime-cutoff=6", "given twice"},
        Case{"sync-level=file", "unknown key 'sync-level'"},
        Case{"gc-atime-cutoff", "not key=value"}, Case{"gc-atime-cutoff=5,", "not key=value"}}) {
    auto tuning = ParseDatastoreTuning(c.text);
    EXPECT_EQ(tuning.status().code(), Code::kInvalidArgument) << c.text;
    EXPECT_NE(tuning.status().message().find(c.named), std::string::npos)
        << c.text << ": " << tuning.status().message();
  }
}

TEST(DatastoreTuningTest, ApplyChangesOnlyWhatIsTuned) {
  GcOptions defaults;
  GcOptions options;
  ApplyTuning({}, options);
  EXPECT_EQ(options.atime_cutoff_minutes, defaults.atime_cutoff_minutes);
  EXPECT_EQ(options.cache_capacity, defaults.cache_capacity);
  EXPECT_EQ(options.atime_safety_check, defaults.atime_safety_check);
  DatastoreTuning tuning;
  tuning.gc_atime_cutoff_minutes = 7;
  ApplyTuning(tuning, options);
  EXPECT_EQ(options.atime_cutoff_minutes, 7);
  EXPECT_EQ(options.cache_capacity, defaults.cache_capacity);
  EXPECT_EQ(options.atime_safety_check, defaults.atime_safety_check);
}

}  // namespace
}  // namespace cairn::config
