{
  "targets": [
    {
      "target_name": "recon_kernels",
      "sources": [
        "native/addon.cc",
        "native/array_binding.cc",
        "native/array_ops_cpu.cc",
        "native/bandwidth_cpu.cc",
        "native/binding_util.cc",
        "native/cuda_info.cc",
        "native/cufft_loader.cc",
        "native/device_buffer.cc",
        "native/kplanes_binding.cc",
        "native/kplanes_cpu.cc",
        "native/mri_binding.cc",
        "native/mri_cpu.cc",
        "native/fft.cc",
        "native/gridding_binding.cc",
        "native/gridding_cpu.cc",
        "native/nufft_binding.cc",
        "native/nufft_cpu.cc",
        "native/tomo_binding.cc",
        "native/tomo_cpu.cc",
        "native/tv_binding.cc",
        "native/tv_cpu.cc"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include\")",
        "cuda",
        "native"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "RK_WITH_CUDA=0",
        "RK_BUILDER=\"node-gyp\"",
        "RK_ADDON_VERSION=\"<!(node -p \"require('./package.json').version\")\""
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++14", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-fexceptions"],
      "libraries": ["-ldl", "-lpthread"]
    }
  ]
}
