{
  # The engine addon. Sources are discovered by native-metal/gyp_sources.mjs so that adding a
  # file never means editing this one; the Metal backend joins only on macOS.
  "targets": [
    {
      "target_name": "k2_engine",
      "sources": ["<!@(node native-metal/gyp_sources.mjs)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native-metal",
        "shaders",
        "shaders/emu/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-Wall", "-Wno-unused-parameter", "-Wno-sign-compare"],
      "conditions": [
        ["OS=='linux'", {
          "libraries": ["-lpthread"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "13.0",
            "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fexceptions"]
          },
          "defines": ["K2_WITH_METAL=1"],
          "include_dirs": ["<(module_root_dir)/build/metal-cpp"],
          "libraries": ["-framework Metal", "-framework Foundation", "-framework QuartzCore"]
        }]
      ]
    }
  ]
}
