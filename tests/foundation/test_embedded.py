"""Images held in rows as data: Image structs to references, data URIs to files beside an output."""
from __future__ import annotations

import base64

import pytest
from tests.formats import png

from mmrl.errors import FieldError
from mmrl.io.embedded import ImageFiles, data_uri, image_refs


def test_struct_bytes_become_a_data_uri_of_their_type():
    (ref,) = image_refs([{"bytes": png(), "path": "x.jpg"}], None)
    assert ref.startswith("data:image/png;base64,") and base64.b64decode(ref.split(",", 1)[1]) == png()


def test_a_struct_path_without_bytes_resolves_against_the_source_folder(tmp_path):
    assert image_refs([{"bytes": None, "path": "img/a.png"}], tmp_path) == [str(tmp_path / "img" / "a.png")]


def test_a_single_image_value_is_a_list_of_one(tmp_path):
    assert image_refs("a.png", tmp_path) == [str(tmp_path / "a.png")]


def test_a_struct_with_neither_bytes_nor_path_is_refused_naming_its_index():
    with pytest.raises(FieldError, match=r"images\[1\]: image struct has neither bytes nor path"):
        image_refs(["data:image/png;base64,AA==", {"bytes": None, "path": None}], None)


def test_data_uris_are_written_once_beside_the_output(tmp_path):
    files = ImageFiles(tmp_path)
    uri = data_uri(png("green"))
    first = files.externalize({"id": "a", "images": [uri, "http://x/y.png"]})
    second = files.externalize({"id": "a", "sample": 1, "images": [uri]})
    ref = first["images"][0]
    assert ref.startswith("images/") and ref.endswith(".png") and second["images"] == [ref]
    assert (tmp_path / ref).read_bytes() == png("green") and first["images"][1] == "http://x/y.png"
    assert len(list((tmp_path / "images").iterdir())) == 1
