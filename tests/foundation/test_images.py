"""Images from paths, data URIs and URLs, and Qwen-VL resizing."""
from __future__ import annotations

import http.server
import io
import threading

import pytest
from PIL import Image

from mmrl.images import ImageError, fit_image, image_tokens, load_image, smart_resize, to_data_uri


@pytest.fixture
def red_png(tmp_path):
    path = tmp_path / "red.png"
    Image.new("RGB", (40, 30), (255, 0, 0)).save(path)
    return path


def test_relative_path_resolves_against_the_base_dir(red_png):
    img = load_image("red.png", base_dir=red_png.parent)
    assert img.size == (40, 30) and img.getpixel((0, 0)) == (255, 0, 0)


def test_absolute_path_ignores_the_base_dir(red_png, tmp_path):
    assert load_image(str(red_png), base_dir=tmp_path / "elsewhere").size == (40, 30)


def test_data_uri_decodes():
    uri = to_data_uri(Image.new("RGB", (8, 9), (0, 0, 255)))
    img = load_image(uri)
    assert img.size == (8, 9) and img.getpixel((1, 1)) == (0, 0, 255)


def test_non_rgb_images_are_converted(tmp_path):
    path = tmp_path / "gray.png"
    Image.new("L", (5, 5), 7).save(path)
    assert load_image(str(path)).mode == "RGB"


class _OnePng(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server API)
        buf = io.BytesIO()
        Image.new("RGB", (12, 7), (0, 255, 0)).save(buf, format="PNG")
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(buf.getvalue())

    def log_message(self, *args):
        pass


def test_http_url_is_fetched(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    server = http.server.HTTPServer(("127.0.0.1", 0), _OnePng)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        img = load_image(f"http://127.0.0.1:{server.server_port}/x.png")
    finally:
        thread.join(timeout=10)
        server.server_close()
    assert img.size == (12, 7) and img.getpixel((0, 0)) == (0, 255, 0)


def test_url_in_offline_mode_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ImageError, match="offline mode"):
        load_image("https://example.com/a.png")


def test_missing_file_and_garbage_are_image_errors(tmp_path):
    with pytest.raises(ImageError, match="not found"):
        load_image("none.png", base_dir=tmp_path)
    (tmp_path / "junk.png").write_bytes(b"not a png")
    with pytest.raises(ImageError, match="cannot decode"):
        load_image("junk.png", base_dir=tmp_path)
    with pytest.raises(ImageError, match="base64"):
        load_image("data:image/png,rawbytes")


@pytest.mark.parametrize(
    ("hw", "bounds", "expected"),
    [
        ((56, 56), (56 * 56, 28 * 28 * 1280), (56, 56)),  # already fits
        ((30, 30), (56 * 56, 28 * 28 * 1280), (56, 56)),  # scaled up to min_pixels
        ((1000, 500), (56 * 56, 28 * 28 * 64), (308, 140)),  # scaled down below max_pixels
        ((100, 41), (56 * 56, 28 * 28 * 1280), (112, 28)),  # rounded to multiples of 28; area = min
    ],
)
def test_smart_resize_matches_qwen_vl(hw, bounds, expected):
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize as reference

    assert smart_resize(*hw, 28, *bounds) == expected == reference(*hw, 28, *bounds)


def test_fit_image_and_token_count_agree():
    img = Image.new("RGB", (1000, 500))
    fitted = fit_image(img, 56 * 56, 28 * 28 * 64)
    assert fitted.size == (308, 140)
    assert image_tokens(img, 56 * 56, 28 * 28 * 64) == (308 // 28) * (140 // 28) == 55


def test_extreme_aspect_ratio_is_refused():
    with pytest.raises(ImageError, match="aspect ratio"):
        smart_resize(10, 5000)
