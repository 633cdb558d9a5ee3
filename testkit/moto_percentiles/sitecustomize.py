"""Teach moto's CloudWatch percentile statistics (`p99`, `p50`, `p99.9`) -- test-only.

moto 5.2.5 computes only SampleCount/Sum/Minimum/Maximum/Average; for a percentile stat
`Statistics.get_statistics_for_type` returns None and GetMetricData fails with HTTP 500 whenever
the period holds data of the metric. Put this directory on moto_server's PYTHONPATH (see
`mcpctl_testkit::alb::moto_percentiles_env`) and a `pNN` stat answers the nearest-rank
percentile of the period's single values (PutMetricData `Value`, or `Values`+`Counts`, which
moto stores expanded); a statistic set (which carries no distribution) contributes its Maximum.
"""

import math
import re

_PCT = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")

try:
    from moto.cloudwatch import models as _models

    _original = _models.Statistics.get_statistics_for_type

    def _get_statistics_for_type(self, stat):
        m = _PCT.match(stat or "")
        if not m:
            return _original(self, stat)
        values = sorted(self.metric_single_values_list + [s.max for s in self.metric_aggregated_list])
        if not values:
            return None
        rank = max(1, math.ceil(float(m.group(1)) / 100.0 * len(values)))
        return values[min(rank, len(values)) - 1]

    _models.Statistics.get_statistics_for_type = _get_statistics_for_type
except Exception:  # not moto's interpreter, or another moto: leave it alone
    pass
