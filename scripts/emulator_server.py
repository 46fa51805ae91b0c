"""moto's server, plus three API Gateway v2 calls moto 5.2 does not implement.

The provisioner's JWT authorizer is found again after a crash by listing the API's authorizers
(GetAuthorizers), and the stage's throttling changes in place (UpdateStage, DeleteRouteSettings).
moto answers 500 to the first two and has no route for the third, so without them nothing of
that could run against the emulator. Each is written after the API reference
(https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/): the same paths, bodies and
semantics (UpdateStage changes only the members it is given; route settings merge by route key;
DeleteRouteSettings removes one key). Everything else is moto as installed.

    python emulator_server.py -H 127.0.0.1 -p PORT      (the arguments of moto_server)
"""

import json
from urllib.parse import unquote

from moto.apigatewayv2 import urls
from moto.apigatewayv2.exceptions import StageNotFound
from moto.apigatewayv2.responses import ApiGatewayV2Response
from moto.server import main


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


ApiGatewayV2Response.get_authorizers = get_authorizers
ApiGatewayV2Response.update_stage = update_stage
ApiGatewayV2Response.delete_route_settings = delete_route_settings
urls.url_paths[
    "{0}/v2/apis/(?P<api_id>[^/]+)/stages/(?P<stage_name>[^/]+)/routesettings/(?P<route_key>.+)$"
] = ApiGatewayV2Response.dispatch

if __name__ == "__main__":
    main()
