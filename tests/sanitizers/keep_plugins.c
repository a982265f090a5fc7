/* Preloaded into the DECENT_SANITIZE test runs only (tests/CMakeLists.txt): dlclose does nothing, so the
 * shared objects Open MPI, PMIx and hwloc load as plugins stay mapped until the process ends. Their
 * allocations that are never freed (by design, at MPI_Finalize) then have a module LeakSanitizer can name
 * and lsan.supp can suppress; with the plugins unloaded the frames read "<unknown module>" and cannot be
 * told apart from decent's own. Built without sanitizers: it is preloaded into mpiexec and python too. */
int dlclose(void* handle) {
  (void)handle;
  return 0;
}
