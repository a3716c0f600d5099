#!/usr/bin/env python3
"""Drives a running vigia with the clients platform teams already use, and prints one
compatibility row per call: `| client | call | status |`.

usage: check_clients.py GROUP URL MODEL CSV
  GROUP  clients   tritonclient[http] (binary data on, then JSON), the KServe SDK's REST
                   client (V1 and V2), TF Serving REST rows and columns (urllib)
         mlserver  a DataFrame encoded by MLServer's PandasCodec, POSTed as it serialises
Every scoring call must give exactly the scores V1 `:predict` gives the same listings; a
call passes when it does and fails with the reason otherwise. Exit status 1 if any failed.
The status column is what README.md's compatibility table shows (scripts/check-clients.sh).
"""
from __future__ import annotations

import asyncio
import csv
import json
import sys
import urllib.error
import urllib.request
from typing import Any, Callable

LISTINGS = 3
FIELDS = ["id", "site_id", "title", "category_id", "price_usd", "seller_age_days", "seller_sales", "seller_reputation"]
TEXT_FIELDS = {"id", "site_id", "title", "category_id", "seller_reputation"}
INTEGER_FIELDS = {"seller_age_days", "seller_sales"}


def load_listings(path: str) -> list[dict[str, Any]]:
    """The first LISTINGS rows of the sample data, typed as the signature asks."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[:LISTINGS]
    typed: list[dict[str, Any]] = []
    for row in rows:
        typed.append({
            name: row[name] if name in TEXT_FIELDS else int(row[name]) if name in INTEGER_FIELDS else float(row[name])
            for name in FIELDS
        })
    return typed


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One request with the standard library; the status and body, errors included."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def post_json(url: str, payload: Any) -> Any:
    status, body = http("POST", url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    if status != 200:
        raise AssertionError(f"HTTP {status}: {body[:300]!r}")
    return json.loads(body)


class NotOffered(Exception):
    """The client itself refuses the call before sending anything (no server can change that)."""


class Rows:
    """Runs each check and collects its table row."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []
        self.failed = False

    def check(self, client: str, call: str, run: Callable[[], None]) -> None:
        try:
            run()
            self.rows.append((client, call, "works"))
        except NotOffered as refusal:
            self.rows.append((client, call, f"not offered by the client ({refusal})"))
        except Exception as error:  # the row records any failure; the exit status reports it
            self.failed = True
            self.rows.append((client, call, f"FAILS: {type(error).__name__}: {str(error)[:200]}"))

    def print(self) -> None:
        for client, call, status in self.rows:
            print(f"| {client} | {call} | {status} |")


def same_scores(got: Any, expected: list[float], what: str) -> None:
    values = [float(x) for x in list(got)]
    if values != expected:
        raise AssertionError(f"{what}: scores {values} differ from V1 predict's {expected}")


def check_tensorflow_serving(rows: Rows, url: str, model: str, listings: list[dict[str, Any]], expected: list[float]) -> None:
    client = "TF Serving REST"

    def row_form() -> None:
        body = post_json(f"{url}/v1/models/{model}:predict", {"signature_name": "serving_default", "instances": listings})
        same_scores([p["score"] for p in body["predictions"]], expected, "rows")

    def column_form() -> None:
        columns = {name: [listing[name] for listing in listings] for name in FIELDS}
        body = post_json(f"{url}/v1/models/{model}:predict", {"signature_name": "serving_default", "inputs": columns})
        same_scores(body["outputs"]["score"], expected, "columns")

    def status() -> None:
        status, body = http("GET", f"{url}/v1/models/{model}")
        states = [v["state"] for v in json.loads(body)["model_version_status"]]
        if status != 200 or "AVAILABLE" not in states:
            raise AssertionError(f"HTTP {status}, states {states}")

    def metadata() -> None:
        status, body = http("GET", f"{url}/v1/models/{model}/metadata")
        inputs = json.loads(body)["metadata"]["signature_def"]["signature_def"]["serving_default"]["inputs"]
        if status != 200 or inputs["title"]["dtype"] != "DT_STRING":
            raise AssertionError(f"HTTP {status}: {inputs}")

    rows.check(client, "predict, row form (instances)", row_form)
    rows.check(client, "predict, columnar form (inputs)", column_form)
    rows.check(client, "model status (model_version_status)", status)
    rows.check(client, "model metadata", metadata)


def check_tritonclient(rows: Rows, url: str, model: str, listings: list[dict[str, Any]], expected: list[float]) -> None:
    import numpy as np
    import tritonclient.http as triton
    from tritonclient.utils import InferenceServerException

    client = triton.InferenceServerClient(url.removeprefix("http://"))

    def inputs(binary: bool) -> list[Any]:
        made = []
        for name in FIELDS:
            values = [listing[name] for listing in listings]
            if name in TEXT_FIELDS:
                array, datatype = np.array(values, dtype=np.object_), "BYTES"
            elif name in INTEGER_FIELDS:
                array, datatype = np.array(values, dtype=np.int64), "INT64"
            else:
                array, datatype = np.array(values, dtype=np.float64), "FP64"
            tensor = triton.InferInput(name, list(array.shape), datatype)
            tensor.set_data_from_numpy(array, binary_data=binary)
            made.append(tensor)
        return made

    def infer_binary() -> None:
        # Defaults: binary tensor data for inputs, and for outputs (none selected).
        result = client.infer(model, inputs(binary=True), request_id="triton-1")
        same_scores(result.as_numpy("score"), expected, "binary")
        labels = [x.decode() for x in result.as_numpy("label")]
        ids = [x.decode() for x in result.as_numpy("id")]
        if ids != [listing["id"] for listing in listings] or not all(labels):
            raise AssertionError(f"ids {ids}, labels {labels}")
        if result.get_response()["id"] != "triton-1":
            raise AssertionError("request id not echoed")

    def infer_json() -> None:
        outputs = [triton.InferRequestedOutput("score", binary_data=False), triton.InferRequestedOutput("label", binary_data=False)]
        result = client.infer(model, inputs(binary=False), outputs=outputs)
        same_scores(result.as_numpy("score"), expected, "JSON")
        if [o["name"] for o in result.get_response()["outputs"]] != ["score", "label"]:
            raise AssertionError("outputs not as selected")

    def error_message() -> None:
        try:
            client.infer(model, inputs(binary=True)[1:])
        except InferenceServerException as error:
            if "Input 'id' is missing" not in str(error):
                raise AssertionError(f"unexpected message: {error}") from error
            return
        raise AssertionError("a request without the id input was accepted")

    def metadata() -> None:
        names = [i["name"] for i in client.get_model_metadata(model)["inputs"]]
        if names != FIELDS or client.get_server_metadata()["name"] != "vigia":
            raise AssertionError(f"inputs {names}")

    rows.check("tritonclient[http]", "is_server_live, is_server_ready", lambda: _true(client.is_server_live() and client.is_server_ready()))
    rows.check("tritonclient[http]", "is_model_ready", lambda: _true(client.is_model_ready(model)))
    rows.check("tritonclient[http]", "get_server_metadata, get_model_metadata", metadata)
    rows.check("tritonclient[http]", "infer, binary tensor data (defaults)", infer_binary)
    rows.check("tritonclient[http]", "infer, JSON, selected outputs", infer_json)
    rows.check("tritonclient[http]", "error message (InferenceServerException)", error_message)


def _true(value: Any) -> None:
    if value is not True:
        raise AssertionError(f"answered {value!r}")


def check_kserve(rows: Rows, url: str, model: str, listings: list[dict[str, Any]], expected: list[float]) -> None:
    import numpy as np
    from kserve import InferenceRESTClient, RESTConfig
    from kserve.errors import UnsupportedProtocol
    from kserve.protocol.infer_type import InferInput, InferRequest

    async def run() -> None:
        v1 = InferenceRESTClient(RESTConfig(protocol="v1", retries=0))
        v2 = InferenceRESTClient(RESTConfig(protocol="v2", retries=0))
        try:
            outcome: dict[str, Any] = {}

            async def v1_infer() -> None:
                body = await v1.infer(url, {"instances": listings}, model_name=model)
                same_scores([p["score"] for p in body["predictions"]], expected, "V1")

            async def v1_explain() -> None:
                body = await v1.explain(url, model, {"instances": listings})
                same_scores([e["score"] for e in body["explanations"]], expected, "V1 explain")

            async def v2_infer(binary: bool) -> None:
                tensors = []
                for name in FIELDS:
                    values = [listing[name] for listing in listings]
                    if name in TEXT_FIELDS:
                        tensor = InferInput(name, [len(values)], "BYTES")
                        tensor.set_data_from_numpy(np.array(values, dtype=np.object_), binary_data=binary)
                    else:
                        dtype = np.int64 if name in INTEGER_FIELDS else np.float64
                        tensor = InferInput(name, [len(values)], "INT64" if name in INTEGER_FIELDS else "FP64")
                        tensor.set_data_from_numpy(np.array(values, dtype=dtype), binary_data=binary)
                    tensors.append(tensor)
                response = await v2.infer(url, InferRequest(model_name=model, infer_inputs=tensors, request_id="kserve-1"), model_name=model)
                score = next(o for o in response.outputs if o.name == "score")
                same_scores(score.as_numpy(), expected, "V2")
                if response.id != "kserve-1":
                    raise AssertionError(f"id {response.id}")

            for name, call in [
                ("V1 infer (:predict)", v1_infer()), ("V1 explain (:explain)", v1_explain()),
                ("V1 is_server_live", v1.is_server_live(url)), ("V1 is_server_ready", v1.is_server_ready(url)),
                ("V1 is_model_ready", v1.is_model_ready(url, model)),
                ("V2 infer, JSON", v2_infer(False)), ("V2 infer, binary tensor data", v2_infer(True)),
                ("V2 explain", v2.explain(url, model, {"instances": listings})),
                ("V2 is_server_live", v2.is_server_live(url)), ("V2 is_server_ready", v2.is_server_ready(url)),
                ("V2 is_model_ready", v2.is_model_ready(url, model)),
            ]:
                try:
                    result = await call
                    outcome[name] = None if result is None or result is True else AssertionError(f"answered {result!r}")
                except UnsupportedProtocol as error:
                    outcome[name] = NotOffered(f"UnsupportedProtocol: {error}")
                except Exception as error:  # recorded in the row below
                    outcome[name] = error
            for name, error in outcome.items():
                rows.check("KServe SDK REST client", name, lambda error=error: _raise(error))
        finally:
            await v1.close()
            await v2.close()

    asyncio.run(run())


def _raise(error: Exception | None) -> None:
    if error is not None:
        raise error


def check_mlserver(rows: Rows, url: str, model: str, listings: list[dict[str, Any]], expected: list[float]) -> None:
    import pandas as pd
    from mlserver.codecs import PandasCodec

    def pandas_codec() -> None:
        request = PandasCodec.encode_request(pd.DataFrame(listings), use_bytes=False)
        body = request.model_dump_json(exclude_none=True).encode()
        status, answer = http("POST", f"{url}/v2/models/{model}/infer", body, {"Content-Type": "application/json"})
        if status != 200:
            raise AssertionError(f"HTTP {status}: {answer[:300]!r}")
        outputs = {o["name"]: o for o in json.loads(answer)["outputs"]}
        same_scores(outputs["score"]["data"], expected, "PandasCodec")

    def scikit_learn_outputs() -> None:
        # What a client of MLServer's scikit-learn runtime asks for, decoded by MLServer's own
        # response types and NumpyCodec: predict_proba [N, 2] and predict.
        from mlserver.codecs import NumpyCodec
        from mlserver.types import InferenceResponse, RequestOutput

        request = PandasCodec.encode_request(pd.DataFrame(listings), use_bytes=False)
        request.outputs = [RequestOutput(name="predict_proba"), RequestOutput(name="predict")]
        body = request.model_dump_json(exclude_none=True).encode()
        status, answer = http("POST", f"{url}/v2/models/{model}/infer", body, {"Content-Type": "application/json"})
        if status != 200:
            raise AssertionError(f"HTTP {status}: {answer[:300]!r}")
        response = InferenceResponse.model_validate_json(answer)
        outputs = {o.name: o for o in response.outputs}
        probabilities = NumpyCodec.decode_output(outputs["predict_proba"])
        if probabilities.shape != (len(listings), 2):
            raise AssertionError(f"predict_proba shape {probabilities.shape}")
        same_scores(list(probabilities[:, 1]), expected, "predict_proba")
        if any(abs(row[0] + row[1] - 1) > 1e-12 for row in probabilities):
            raise AssertionError("predict_proba rows do not sum to 1")
        predicted = [str(v) for v in outputs["predict"].data.root]
        wanted = ["prohibited" if p > 0.5 else "allowed" for p in expected]
        if predicted != wanted:
            raise AssertionError(f"predict {predicted} != {wanted}")

    rows.check("MLServer codecs", "PandasCodec.encode_request(DataFrame), POSTed as serialised", pandas_codec)
    rows.check("MLServer codecs", "outputs predict_proba and predict (scikit-learn runtime names)", scikit_learn_outputs)


def main() -> None:
    if len(sys.argv) != 5 or sys.argv[1] not in ("clients", "mlserver"):
        sys.exit(__doc__)
    group, url, model, data = sys.argv[1:]
    listings = load_listings(data)
    expected = [p["score"] for p in post_json(f"{url}/v1/models/{model}:predict", {"instances": listings})["predictions"]]
    rows = Rows()
    if group == "clients":
        check_tritonclient(rows, url, model, listings, expected)
        check_kserve(rows, url, model, listings, expected)
        check_tensorflow_serving(rows, url, model, listings, expected)
    else:
        check_mlserver(rows, url, model, listings, expected)
    rows.print()
    sys.exit(1 if rows.failed else 0)


if __name__ == "__main__":
    main()
