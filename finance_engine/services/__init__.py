"""Services: the use cases of the application (reads, writes, clock) over the pure packages."""
