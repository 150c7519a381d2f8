import numpy as np

from shanzhi.grid.locate import locate_point, locate_points


def test_locate_with_no_grids_and_no_shapes_is_outside(db):
    assert locate_point(lon=119.8, lat=28.3).code == "outside_jurisdiction"
    assert [loc.code for loc in locate_points(lon=np.array([119.8]), lat=np.array([28.3]))] == [
        "outside_jurisdiction"
    ]
