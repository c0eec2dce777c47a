// Kernel width as a compile-time constant: the spreading / interpolation loops are instantiated
// per width 2..16 so their trip counts are known to the compiler (full unrolling, register
// accumulators). Shared by the NUFFT and gridding CPU code.
#pragma once

namespace rk {

template <int V>
struct IntC {
  static constexpr int value = V;
};

// Calls fn(IntC<w>{}) for w in 2..16, otherwise other() (a run-time-width path or an error).
template <typename Fn, typename Other>
void dispatch_width(int w, Fn&& fn, Other&& other) {
  switch (w) {
    case 2: fn(IntC<2>{}); break;
    case 3: fn(IntC<3>{}); break;
    case 4: fn(IntC<4>{}); break;
    case 5: fn(IntC<5>{}); break;
    case 6: fn(IntC<6>{}); break;
    case 7: fn(IntC<7>{}); break;
    case 8: fn(IntC<8>{}); break;
    case 9: fn(IntC<9>{}); break;
    case 10: fn(IntC<10>{}); break;
    case 11: fn(IntC<11>{}); break;
    case 12: fn(IntC<12>{}); break;
    case 13: fn(IntC<13>{}); break;
    case 14: fn(IntC<14>{}); break;
    case 15: fn(IntC<15>{}); break;
    case 16: fn(IntC<16>{}); break;
    default: other(); break;
  }
}

}  // namespace rk
