// Reads cases "P m n v1..vn" (partial_sort of the first m) or "S n v1..vn" (sort) from stdin;
// prints the index permutation after the call, one case per line.
#include <algorithm>
#include <iostream>
#include <numeric>
#include <vector>
int main() {
  char op;
  while (std::cin >> op) {
    int m = 0, n;
    if (op == 'P') std::cin >> m;
    std::cin >> n;
    std::vector<double> v(n);
    for (auto& x : v) std::cin >> x;
    std::vector<int> ind(n);
    std::iota(ind.begin(), ind.end(), 0);
    auto comp = [&v](int a, int b) { return v[a] < v[b]; };
    if (op == 'P') std::partial_sort(ind.begin(), ind.begin() + m, ind.end(), comp);
    else std::sort(ind.begin(), ind.end(), comp);
    for (int i = 0; i < n; i++) std::cout << ind[i] << (i + 1 < n ? ' ' : '\n');
  }
}
