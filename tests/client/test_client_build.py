"""Request building and local checks (pure): routes, bodies, images, prices, max_cost."""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from seedream_testing import SAMPLE_URL, SAMPLE_URL_2, png_bytes

from seedream_client import CostLimitError, InvalidRequestError, PriceTable
from seedream_client._build import Kind, cost_of_status, kind_for, prepare_submit
from seedream_client._contract import DOCUMENT, OPERATIONS
from seedream_client._models import JobStatus


def prep(kind: Kind, images: Any = None, model: str | None = None, **options: Any) -> Any:
    webhook_url = options.pop("webhook_url", None)
    max_cost = options.pop("max_cost", None)
    return prepare_submit(
        kind, options.pop("prompt", "a cat"), images, model=model, options=options,
        webhook_url=webhook_url, max_cost=max_cost, prices=PriceTable(),
    )  # fmt: skip


def test_routes_and_bodies_follow_the_documentation() -> None:
    lite = prep("text_to_image", image_size="square_hd", num_images=2, seed=42)
    assert lite.operation.path.endswith("/seedream-5-0-lite-text-to-image-request")
    assert lite.body == {"prompt": "a cat", "image_size": "square_hd", "num_images": 2, "seed": 42}
    t2i = prep("text_to_image", model="seedream-4-5", size="2K", watermark=True)
    assert t2i.operation.path == "/byteplus/v1/getTextToImage"
    assert t2i.body == {"prompt": "a cat", "model": "seedream-4-5-251128", "size": "2K",
                        "watermark": True}  # fmt: skip
    edit = prep("edit", SAMPLE_URL, enable_safety_checker=False)
    assert edit.operation.path.endswith("/seedream-5-0-lite-edit-request")
    assert edit.body["image_urls"] == [SAMPLE_URL]
    seededit = prep("edit", SAMPLE_URL, model="seededit-3-0", size="adaptive", guidance_scale=6)
    assert seededit.operation.path == "/byteplus/v1/getEditImage"
    assert seededit.body["model"] == "seededit-3-0-i2i-250628"
    assert seededit.body["image"] == SAMPLE_URL
    multi = prep("multi_edit", [SAMPLE_URL, SAMPLE_URL_2])
    assert multi.operation.path == "/byteplus/v1/getEditMultiImage"
    assert "model" not in multi.body  # the gateway's documented default
    assert prep("multi_edit", [SAMPLE_URL, SAMPLE_URL_2], model="seedream-4-5").body["model"] == (
        "seedream-4-5-251128"
    )
    assert prep("edit", SAMPLE_URL, model="seedream-4-5-251128").model == "seedream-4-5"


def test_custom_size_tuple_and_mapping() -> None:
    assert prep("text_to_image", image_size=(800, 600)).body["image_size"] == {
        "width": 800, "height": 600,
    }  # fmt: skip
    assert prep("text_to_image", image_size={"width": 5, "height": 7}).body["image_size"] == {
        "width": 5, "height": 7,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "images", "model", "options", "field"),
    [
        ("text_to_image", None, None, {"num_images": 5}, "num_images"),
        ("text_to_image", None, None, {"num_images": 0}, "num_images"),
        ("text_to_image", None, None, {"prompt": "   "}, "prompt"),
        ("text_to_image", None, None, {"seed": 2147483648}, "seed"),
        ("text_to_image", None, None, {"image_size": "huge"}, "image_size"),
        ("text_to_image", None, None, {"image_size": (0, 10)}, "image_size.width"),
        ("text_to_image", None, "seedream-4-5", {"size": "8K"}, "size"),
        ("edit", SAMPLE_URL, "seedream-4-5", {"guidance_scale": 11}, "guidance_scale"),
        ("edit", SAMPLE_URL, "seededit-3-0", {"size": "2K"}, "size"),
        ("edit", "ftp://x/cat.jpg", None, {}, "image_urls.0"),
        ("multi_edit", [SAMPLE_URL], None, {}, "image"),
    ],
)
def test_contract_rules_checked_locally(
    kind: Kind, images: Any, model: str | None, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequestError, match=rf"^invalid request: {field}: "):
        prep(kind, images, model, **options)


def test_ranges_come_from_the_contract_not_the_client() -> None:
    # If the contract allowed 6 images, the client would too: nothing is hand-copied.
    limits = DOCUMENT["components"]["schemas"]["NumImages"]
    assert (limits["minimum"], limits["maximum"]) == (1, 4)
    prep("text_to_image", num_images=limits["maximum"])


def test_options_that_a_model_does_not_take_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="does not take num_images"):
        prep("text_to_image", model="seedream-4-5", num_images=2)
    with pytest.raises(InvalidRequestError, match="does not take guidance_scale"):
        prep("edit", SAMPLE_URL, guidance_scale=3)
    with pytest.raises(InvalidRequestError, match="does not support model"):
        prep("text_to_image", model="seededit-3-0")


def test_local_files_and_bytes_become_data_urls(tmp_path: Path) -> None:
    data = png_bytes()
    path = tmp_path / "in.png"
    path.write_bytes(data)
    body = prep("edit", path, model="seedream-4-5").body
    assert body["image"] == "data:image/png;base64," + base64.b64encode(data).decode()
    jpeg = prep("edit", png_bytes(fmt="JPEG"), model="seededit-3-0").body["image"]
    assert jpeg.startswith("data:image/jpeg;base64,")
    with pytest.raises(InvalidRequestError, match="URLs only"):
        prep("edit", path)  # 5.0 lite takes URLs only
    with pytest.raises(InvalidRequestError, match="not a PNG, JPEG"):
        prep("edit", b"plain text", model="seedream-4-5")
    with pytest.raises(InvalidRequestError, match="cannot read image"):
        prep("edit", tmp_path / "missing.png", model="seedream-4-5")
    with pytest.raises(InvalidRequestError, match="exactly one image"):
        prep("edit", [SAMPLE_URL, SAMPLE_URL_2], model="seedream-4-5")


def test_webhook_url_checked_by_the_contract() -> None:
    assert prep("text_to_image", webhook_url="http://127.0.0.1:9/hook").webhook_url
    with pytest.raises(InvalidRequestError, match="webhook_url"):
        prep("text_to_image", webhook_url="ftp://example.test/hook")


def test_prices_come_from_the_contract_and_max_cost_refuses() -> None:
    assert {op.price_usd for op in OPERATIONS.values()} == {Decimal("0.035"), Decimal("0.2")}
    assert prep("text_to_image", num_images=3).estimated_cost == Decimal("0.105")
    assert prep("edit", SAMPLE_URL, model="seedream-4-5").estimated_cost == Decimal("0.2")
    with pytest.raises(CostLimitError, match=r"\$0.14 is above max_cost \$0.1") as info:
        prep("text_to_image", num_images=4, max_cost="0.10")
    assert info.value.estimated_usd == Decimal("0.14")
    assert prep("text_to_image", num_images=4, max_cost=0.14).estimated_cost == Decimal("0.14")
    with pytest.raises(InvalidRequestError, match="max_cost"):
        prep("text_to_image", max_cost="lots")
    per_request = PriceTable(per_image=False)
    assert per_request.estimate("liteTextToImageSubmit", 4) == Decimal("0.035")


def test_kind_for_run() -> None:
    assert kind_for(None, None) == "text_to_image"
    assert kind_for(SAMPLE_URL, None) == "edit"
    assert kind_for([SAMPLE_URL, SAMPLE_URL_2], None) == "edit"  # 5.0 lite edits several
    assert kind_for([SAMPLE_URL, SAMPLE_URL_2], "seedream-4-5") == "multi_edit"
    assert kind_for([SAMPLE_URL, SAMPLE_URL_2], "seedream-4-0") == "multi_edit"
    assert kind_for(SAMPLE_URL, "seedream-4-5") == "edit"


def test_cost_of_a_status() -> None:
    def status(state: str, model: str, urls: int) -> JobStatus:
        output = {"media_url": ["http://x/a.png"] * urls, "media_type": "image/png"}
        return JobStatus.from_body({
            "request_id": f"{model}_1", "status": state, "model_id": model,
            "error": None if state == "COMPLETED" else "boom",
            "output": output if state == "COMPLETED" else None,
        })  # fmt: skip

    prices = PriceTable()
    assert cost_of_status(status("COMPLETED", "seedream-5-0-lite-edit", 2), prices) == Decimal(
        "0.070"
    )
    assert cost_of_status(status("COMPLETED", "byteplus", 1), prices) == Decimal("0.2")
    assert cost_of_status(status("ERROR", "byteplus", 0), prices) == 0
    assert cost_of_status(status("FAILED", "byteplus", 0), prices) is None
