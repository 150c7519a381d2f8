"""The leaders' cockpit (数据驾驶舱): tiles, panels and their drill-downs, read from rollups."""
