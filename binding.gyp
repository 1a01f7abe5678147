{
  "targets": [
    {
      "target_name": "tandem_io",
      "sources": ["native/tandem_io.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
