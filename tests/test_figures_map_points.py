"""What small maps draw over their regions: a marker per class that never repeats or reads as a
dropped point."""

from moe_explorer_app.figures.map_points import class_marker


def test_classes_past_four_get_shapes_of_their_own():
    markers = [class_marker(c, [str(i) for i in range(10)]) for c in range(10)]  # the digits' ten classes
    assert [m["symbol"] for m in markers[:4]] == ["circle", "square", "diamond", "triangle-up"]  # the live map's
    assert len({(m["symbol"], m["color"]) for m in markers}) == 10  # no two classes look the same
    assert not any(m["symbol"].startswith("x") for m in markers)  # an x is a dropped point
