"""Charts and an offline HTML page for ipcbench reports (see plots/README.md)."""
