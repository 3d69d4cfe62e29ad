// k6's open model at the same load as bench/scenarios/open-2000.toml: GET / started at
// 2,000 a second (constant-arrival-rate), for the CPU figure beside the harness's.
// BENCH_URL and BENCH_SECONDS come from the bench.
import http from 'k6/http';

export const options = {
  discardResponseBodies: true,
  summaryTrendStats: ['med', 'p(99)'],
  scenarios: {
    open: {
      executor: 'constant-arrival-rate',
      rate: 2000,
      timeUnit: '1s',
      duration: `${__ENV.BENCH_SECONDS}s`,
      preAllocatedVUs: 200,
      maxVUs: 200,
    },
  },
};

export default function () {
  http.get(`${__ENV.BENCH_URL}/`);
}
