// Nearest-neighbour matching on a scalar distance written out as MatchIt 4.7.1's
// nn_matchC_vec searches (one position at a time), with the C++ library's own
// std::partial_sort and std::sort. An independent statement of the algorithm for
// tests/test_matchit_cxx.py; compiled there with g++ (GNU libstdc++).
//
// stdin:  n k replace caliper          (caliper < 0: none)
//         then n lines: distance treat stratum
// stdout: one line per treated unit in data order: its controls (0-based rows) in
//         MatchIt's order ("-" if none)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>
#include <vector>

int main() {
  int n, k, replace;
  double cal;
  if (std::scanf("%d %d %d %lf", &n, &k, &replace, &cal) != 4) return 1;
  std::vector<double> d(n);
  std::vector<int> tr(n), st(n);
  for (int i = 0; i < n; i++)
    if (std::scanf("%lf %d %d", &d[i], &tr[i], &st[i]) != 3) return 1;

  // R's order(distance): ascending, ties in row order
  std::vector<int> ord(n);
  std::iota(ord.begin(), ord.end(), 0);
  std::stable_sort(ord.begin(), ord.end(), [&d](int a, int b) { return d[a] < d[b]; });
  std::vector<int> pos(n);
  for (int p = 0; p < n; p++) pos[ord[p]] = p;

  // strata holding both groups; units of other strata are discarded
  std::set<int> with_t, with_c;
  for (int i = 0; i < n; i++) (tr[i] ? with_t : with_c).insert(st[i]);
  std::vector<char> eligible(n);
  for (int i = 0; i < n; i++) eligible[i] = with_t.count(st[i]) && with_c.count(st[i]);

  std::vector<int> treated;
  for (int i = 0; i < n; i++)
    if (tr[i]) treated.push_back(i);
  std::vector<int> order = treated;  // with replacement: data order
  if (!replace)  // m.order = "largest": decreasing distance, ties in data order
    std::stable_sort(order.begin(), order.end(), [&d](int a, int b) { return d[a] > d[b]; });

  const int rounds = replace ? 1 : k;
  const int per_call = replace ? k : 1;
  std::vector<std::vector<int>> got(n);
  for (int r = 0; r < rounds; r++) {
    for (int t : order) {
      if (!eligible[t]) continue;
      // start at the treated unit, or (later rounds) just outside its earlier matches
      int il = pos[t], ir = pos[t];
      for (int c : got[t]) {
        il = std::min(il, pos[c]);
        ir = std::max(ir, pos[c]);
      }
      double min_dist = 0;
      if (!got[t].empty()) {
        double dl = std::fabs(d[t] - d[ord[il]]), dr = std::fabs(d[t] - d[ord[ir]]);
        min_dist = il == pos[t] ? dr : ir == pos[t] ? dl : std::max(dl, dr);
      }
      std::vector<int> cid;
      std::vector<double> cd;
      bool lstop = false, rstop = false, left = false;
      int nl = 0, nr = 0;
      while (!lstop || !rstop) {
        left = lstop ? false : rstop ? true : !left;
        int u;
        if (left) {
          if (il <= 0 || nl == per_call) { lstop = true; continue; }
          u = ord[--il];
        } else {
          if (ir >= n - 1 || nr == per_call) { rstop = true; continue; }
          u = ord[++ir];
        }
        if (!eligible[u] || tr[u]) continue;
        double dist = std::fabs(d[t] - d[u]);
        if (cal >= 0 && dist > cal) { (left ? lstop : rstop) = true; continue; }
        if ((int)cd.size() >= per_call) {
          int closer = 0;
          for (double x : cd) closer += x < dist;
          if (closer >= per_call) { (left ? lstop : rstop) = true; continue; }
        }
        if (dist < min_dist) continue;
        if (st[u] != st[t]) continue;
        cid.push_back(u);
        cd.push_back(dist);
        if (left) { if (++nl == per_call) lstop = true; }
        else if (++nr == per_call) rstop = true;
      }
      const int m = cid.size();
      if (m == 0) { eligible[t] = 0; continue; }
      std::vector<int> ind(m);
      std::iota(ind.begin(), ind.end(), 0);
      auto comp = [&cd](int a, int b) { return cd[a] < cd[b]; };
      if (m > per_call) {
        std::partial_sort(ind.begin(), ind.begin() + per_call, ind.end(), comp);
        ind.resize(per_call);
      } else if (!std::is_sorted(cd.begin(), cd.end())) {
        std::sort(ind.begin(), ind.end(), comp);
      }
      for (int i : ind) {
        got[t].push_back(cid[i]);
        if (!replace) eligible[cid[i]] = 0;
      }
    }
  }
  for (int t : treated) {
    if (got[t].empty()) { std::printf("-\n"); continue; }
    for (size_t i = 0; i < got[t].size(); i++) std::printf(i ? " %d" : "%d", got[t][i]);
    std::printf("\n");
  }
}
