"""moto's server, plus three API Gateway v2 calls moto 5.2 does not implement, the function
code download of Lambda's GetFunction, and CloudWatch in the CBOR protocol the Rust SDK speaks
(scripts/emulator_cbor.py).

The provisioner's JWT authorizer is found again after a crash by listing the API's authorizers
(GetAuthorizers), and the stage's throttling changes in place (UpdateStage, DeleteRouteSettings).
moto answers 500 to the first two and has no route for the third, so without them nothing of
that could run against the emulator. Each is written after the API reference
(https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/): the same paths, bodies and
semantics (UpdateStage changes only the members it is given; route settings merge by route key;
DeleteRouteSettings removes one key).

`provisioner serve` runs the function from the zip the environment's Lambda holds, downloaded
from GetFunction's `Code.Location`. On AWS that is a presigned S3 URL, fetched without AWS
credentials; moto answers no `Code` at all for a function created from a zip, and otherwise a
URL on amazonaws.com that does not hold it. GetFunction here answers, for every function with
a zip, `Code.Location` = `http://<the emulator's host>/_emulator/lambda-code/<account>/<region>/
<name>` and `RepositoryType` = `S3` (as the API reference documents the member: "a presigned URL
that you can use to download the deployment package"), and a plain GET of that URL answers the
stored zip (`application/zip`), or 404 when the function is gone. Everything else is moto as
installed.

    python emulator_server.py -H 127.0.0.1 -p PORT      (the arguments of moto_server)
"""

import json
from urllib.parse import unquote

from moto.apigatewayv2 import urls
from moto.awslambda.models import lambda_backends
from moto.awslambda.responses import LambdaResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.apigatewayv2.exceptions import StageNotFound
from moto.apigatewayv2.responses import ApiGatewayV2Response
from moto.server import main

import emulator_cbor


def get_authorizers(self):
    api_id = self.path.split("/")[-2]
    api = self.apigatewayv2_backend.get_api(api_id)
    items = [authorizer.to_json() for authorizer in api.authorizers.values()]
    return 200, {}, json.dumps({"items": items})


def _stage(self, api_id, stage_name):
    return self.apigatewayv2_backend.get_stage(api_id, stage_name)


def update_stage(self):
    parts = self.path.split("/")
    stage = _stage(self, parts[-3], unquote(parts[-1]))
    params = json.loads(self.body or "{}")
    if "autoDeploy" in params:
        stage.auto_deploy = params["autoDeploy"]
    if "defaultRouteSettings" in params:
        stage.default_route_settings = params["defaultRouteSettings"]
    for key, settings in (params.get("routeSettings") or {}).items():
        stage.route_settings[key] = settings
    for member in ("description", "stageVariables", "accessLogSettings"):
        if member in params:
            setattr(stage, _snake(member), params[member])
    return 200, {}, json.dumps(stage.to_json())


def delete_route_settings(self):
    head, _, route_key = self.path.partition("/routesettings/")
    parts = head.split("/")
    stage = _stage(self, parts[-3], unquote(parts[-1]))
    if stage.route_settings.pop(unquote(route_key), None) is None:
        raise StageNotFound
    return 204, {}, ""


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


CODE_PREFIX = "/_emulator/lambda-code/"
_moto_get_function = LambdaResponse.get_function
_moto_dispatch = DomainDispatcherApplication.__call__


def get_function(self):
    answer = json.loads(_moto_get_function(self))
    name = answer["Configuration"]["FunctionName"]
    fn = self.backend.get_function(name, self._get_param("Qualifier", None))
    if fn.code_bytes:
        host = self.headers.get("Host", "127.0.0.1")
        location = f"http://{host}{CODE_PREFIX}{fn.account_id}/{fn.region}/{name}"
        answer["Code"] = {"Location": location, "RepositoryType": "S3"}
    return json.dumps(answer)


def dispatch(self, environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith(emulator_cbor.PREFIX) and environ.get("REQUEST_METHOD") == "POST":
        moto = lambda inner, respond: _moto_dispatch(self, inner, respond)  # noqa: E731
        return emulator_cbor.serve(environ, start_response, moto)
    if not path.startswith(CODE_PREFIX) or environ.get("REQUEST_METHOD") != "GET":
        return _moto_dispatch(self, environ, start_response)
    try:
        account, region, name = path[len(CODE_PREFIX) :].split("/")
        code = lambda_backends[account][region].get_function(unquote(name)).code_bytes
    except Exception:  # noqa: BLE001 - any lookup failure is "no such code"
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such function code\n"]
    headers = [("Content-Type", "application/zip"), ("Content-Length", str(len(code)))]
    start_response("200 OK", headers)
    return [code]


LambdaResponse.get_function = get_function
DomainDispatcherApplication.__call__ = dispatch
ApiGatewayV2Response.get_authorizers = get_authorizers
ApiGatewayV2Response.update_stage = update_stage
ApiGatewayV2Response.delete_route_settings = delete_route_settings
urls.url_paths[
    "{0}/v2/apis/(?P<api_id>[^/]+)/stages/(?P<stage_name>[^/]+)/routesettings/(?P<route_key>.+)$"
] = ApiGatewayV2Response.dispatch

if __name__ == "__main__":
    main()
