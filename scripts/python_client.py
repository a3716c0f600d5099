#!/usr/bin/env python3
"""Drives a running vigia with the Python client generated from the committed openapi.json
(openapi-python-client; package `vigia_client`) and checks what it gets back.

usage: python_client.py URL MODEL
  - GET /health/ready and GET /v1/models/MODEL as typed objects: ready, a serving version
    that is available, and its stored example (input and expected score);
  - POST /v1/models/MODEL:predict through the client with the stored example as a `Listing`:
    the typed `PredictResponse` must carry exactly the score a plain HTTP `:predict` (urllib)
    gives the same body, that score must be the example's expected score (|Δ| ≤ 1e-9), and
    the label must follow the threshold;
  - a listing without its title: the client parses the 422 problem+json as a `Problem` that
    points at /instances/0/title.
Prints one line per check; exit status 1 on the first failure.
"""
from __future__ import annotations

import json
import sys
import urllib.request

from vigia_client import Client
from vigia_client.api.health import ready
from vigia_client.api.models import get_model
from vigia_client.api.predict import predict
from vigia_client.models import HealthStatus, Listing, PredictResponse, Problem, VersionStatusState


def plain_predict(url: str, model: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/v1/models/{model}:predict", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def main(url: str, model: str) -> None:
    with Client(base_url=url, timeout=30, raise_on_unexpected_status=True) as client:
        health = ready.sync(client=client)
        assert health is not None and health.status == HealthStatus.READY, f"/health/ready: {health}"
        print(f"python client: /health/ready is {health.status.value}")

        status = get_model.sync(name=model, client=client)
        assert not isinstance(status, Problem) and status is not None, f"GET /v1/models/{model}: {status}"
        serving = [v for v in status.versions if v.serving]
        assert status.ready and len(serving) == 1 and serving[0].version == status.serving_version, status
        assert serving[0].state == VersionStatusState.AVAILABLE, serving[0].state
        example = status.serving.example.to_dict()
        print(f"python client: {model} serves version {status.serving_version} ({serving[0].state.value})")

        listing = Listing.from_dict(example["input"])
        body = {"instances": [listing.to_dict()]}
        response = predict.sync(name=model, client=client, body=body)
        assert isinstance(response, PredictResponse), f":predict: {response}"
        assert response.model_version == status.serving_version, response.model_version
        [prediction] = response.predictions
        [expected] = plain_predict(url, model, body)["predictions"]
        assert prediction.score == expected["score"], f"client {prediction.score!r} ≠ HTTP {expected['score']!r}"
        assert abs(prediction.score - example["expected_score"]) <= 1e-9, (prediction.score, example["expected_score"])
        assert prediction.id == example["input"]["id"], prediction.id
        assert (prediction.score >= prediction.threshold) == (prediction.label == status.serving.labels[1]), prediction
        print(f"python client: :predict scored {prediction.id} {prediction.score!r} ({prediction.label}), "
              f"= plain HTTP :predict, = the stored example's expected score")

        broken = {key: value for key, value in listing.to_dict().items() if key != "title"}
        problem = predict.sync(name=model, client=client, body={"instances": [broken]})
        assert isinstance(problem, Problem) and problem.status == 422, f"listing without title: {problem}"
        pointers = [error.pointer for error in problem.errors]
        assert "/instances/0/title" in pointers, pointers
        print(f"python client: a listing without title is a Problem ({problem.status}, {problem.title}: {pointers})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
