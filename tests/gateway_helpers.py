"""Constants shared by the mock's HTTP tests."""

from __future__ import annotations

KEY = {"Ocp-Apim-Subscription-Key": "test-key"}
T0 = 1_776_426_066.171  # 2026-04-17T11:41:06.171Z, the documentation's example
T2I = "/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request"
EDIT = "/seedream-5-0-lite-edit/v1/seedream-5-0-lite-edit-request"
BP_EDIT = "/byteplus/v1/getEditImage"
BP_T2I = "/byteplus/v1/getTextToImage"
BP_MULTI = "/byteplus/v1/getEditMultiImage"
CAT = "https://pub-582b7213209642b9b995c96c95a30381.r2.dev/byteplus/1757499948018-hntkjsg9kj.jpg"
MODEL = "https://pub-582b7213209642b9b995c96c95a30381.r2.dev/model.png"
