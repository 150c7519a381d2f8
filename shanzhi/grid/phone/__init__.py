"""网格通: the grid worker's phone pages — tasks, patrol check-in, quick report, visits, verification."""
