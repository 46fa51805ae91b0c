"""moto's server, plus four API Gateway v2 calls moto 5.2 does not implement, the function
code download of Lambda's GetFunction, Lambda's version numbering after a delete, an alias's
own resource policy, and CloudWatch in the CBOR protocol the Rust SDK speaks
(scripts/emulator_cbor.py).

The provisioner's JWT authorizer is found again after a crash by listing the API's authorizers
(GetAuthorizers), and the stage's throttling and access logs change in place (UpdateStage,
DeleteRouteSettings, DeleteAccessLogSettings). moto answers 500 to the first two and has no
route for the others, so without them nothing of that could run against the emulator. Each is written after the API reference
(https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/): the same paths, bodies and
semantics (UpdateStage changes only the members it is given; route settings merge by route key;
DeleteRouteSettings removes one key; DeleteAccessLogSettings removes the stage's access log
settings).

`provisioner serve` runs the function from the zip the environment's Lambda holds, downloaded
from GetFunction's `Code.Location`. On AWS that is a presigned S3 URL, fetched without AWS
credentials; moto answers no `Code` at all for a function created from a zip, and otherwise a
URL on amazonaws.com that does not hold it. GetFunction here answers, for every function with
a zip, `Code.Location` = `http://<the emulator's host>/_emulator/lambda-code/<account>/<region>/
<name>` and `RepositoryType` = `S3` (as the API reference documents the member: "a presigned URL
that you can use to download the deployment package"), and a plain GET of that URL answers the
stored zip (`application/zip`), or 404 when the function is gone. The URL names the version
GetFunction answered for (a qualifier, in the ARN or apart, may name a version or an alias), so
the code downloaded is that version's.

Lambda numbers a function's versions from a counter that never goes back: after versions 1 to
7 with 1 and 2 deleted, the next is 8. moto numbers the next version as the count of those left
plus one (6 here, which exists), so PublishVersion here takes the highest number so far plus one
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html: "Lambda assigns
monotonically increasing sequence numbers for versioning").

An alias has a resource policy of its own: AddPermission, GetPolicy and RemovePermission with
`Qualifier=<alias>` act on it alone, so the same statement id can exist on the function and on
its alias (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html: "you
can grant permission to ... an alias"). moto keeps one policy object shared by the function and
its versions and ignores the qualifier of RemovePermission, so here each alias's policy is kept
apart, and dropped with the alias or the function.

DynamoDB applies a conditional write atomically: of two writes racing on one item, the second
sees the first and its condition fails. moto checks a condition and writes in separate steps,
without a lock, so two racing creates could both succeed. Its item writes (PutItem, UpdateItem,
DeleteItem, TransactWriteItems) run here under one lock, so each is atomic, as on DynamoDB. S3's
conditional writes (PutObject and DeleteObject with If-Match or If-None-Match, which the state's
S3 lock is made of) are checked in moto's response layer, apart from the write, so they take
the same lock: of two racing creates of one object, one gets 412, as on S3.

moto finds the service of every request by listing its own package directory (an `os.listdir`
and an `isdir` per service, some 175, twice per request): 1.7 of the 3.6 ms a call costs here.
The listing never changes while the server runs, so it is taken once. Everything else is moto as
installed.

    python emulator_server.py -H 127.0.0.1 -p PORT      (the arguments of moto_server)
"""

import copy
import json
import threading
from urllib.parse import unquote

from moto import backends
from moto.apigatewayv2 import urls
from moto.awslambda.exceptions import GenericResourcNotFound
from moto.awslambda.models import LambdaBackend, LambdaStorage, lambda_backends
from moto.awslambda.policy import Policy
from moto.awslambda.responses import LambdaResponse
from moto.dynamodb.models import DynamoDBBackend
from moto.s3.responses import S3Response
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


def delete_access_log_settings(self):
    parts = self.path.split("/")
    stage = _stage(self, parts[-3], unquote(parts[-2]))
    stage.access_log_settings = None
    return 204, {}, ""


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


CODE_PREFIX = "/_emulator/lambda-code/"
_moto_get_function = LambdaResponse.get_function
_moto_dispatch = DomainDispatcherApplication.__call__


def _qualifier(version):
    return None if version in (None, "$LATEST") else version


def get_function(self):
    answer = json.loads(_moto_get_function(self))
    name = answer["Configuration"]["FunctionName"]
    version = answer["Configuration"].get("Version", "$LATEST")
    fn = self.backend.get_function(name, _qualifier(version))
    if fn.code_bytes:
        host = self.headers.get("Host", "127.0.0.1")
        location = f"http://{host}{CODE_PREFIX}{fn.account_id}/{fn.region}/{name}/{version}"
        answer["Code"] = {"Location": location, "RepositoryType": "S3"}
    return json.dumps(answer)


def publish_version(self, name_or_arn, description=""):
    function = self.get_function_by_name_or_arn_forbid_qualifier(name_or_arn)
    name = function.function_name
    if name not in self._functions or not self._functions[name]["latest"]:
        return None
    versions = self._functions[name]["versions"]
    if versions and not function.code_or_config_updated:
        return versions[-1]
    function.code_or_config_updated = False
    numbers = [int(v.version) for v in versions]
    numbers.append(self._functions[name].get("highest_version", 0))
    number = max(numbers) + 1
    self._functions[name]["highest_version"] = number
    fn = copy.copy(self._functions[name]["latest"])
    fn.set_version(number)
    if description:
        fn.description = description
    versions.append(fn)
    self._arns[fn.function_arn] = fn
    return fn


ALIAS_POLICIES = {}
_moto_add_permission = LambdaBackend.add_permission
_moto_get_policy = LambdaBackend.get_policy
_moto_delete_alias = LambdaBackend.delete_alias
_moto_delete_function = LambdaBackend.delete_function


def _function_name(name_or_arn):
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":function:")[-1].split(":")[0]
    return name_or_arn.split(":")[0]


def _alias_key(backend, function_name, qualifier):
    """The key of alias `qualifier`'s policy, or None when the qualifier names no alias."""
    if not qualifier:
        return None
    name = _function_name(function_name)
    try:
        backend.get_alias(qualifier, name)
    except Exception:  # noqa: BLE001 - not an alias: a version, or nothing
        return None
    return (backend.account_id, backend.region_name, name, qualifier)


def add_permission(self, function_name, qualifier, raw):
    key = _alias_key(self, function_name, qualifier)
    if key is None:
        return _moto_add_permission(self, function_name, qualifier, raw)
    if key not in ALIAS_POLICIES:
        # On the unqualified function: a statement's Resource is its ARN plus ":<alias>", as
        # Lambda writes it (the alias's version's ARN would make it "...:1:live").
        ALIAS_POLICIES[key] = Policy(self.get_function(function_name))
    statement, _ = ALIAS_POLICIES[key].add_statement(raw, qualifier)
    return statement


def get_policy(self, function_name, qualifier=None):
    key = _alias_key(self, function_name, qualifier)
    if key is None:
        return _moto_get_policy(self, function_name, qualifier)
    if key not in ALIAS_POLICIES:
        raise GenericResourcNotFound()
    return ALIAS_POLICIES[key].wire_format()


def remove_permission(self):
    function_name = unquote(self.path.split("/")[-3])
    statement_id = self.path.split("/")[-1].split("?")[0]
    revision = self.querystring.get("RevisionId", [""])[0]
    qualifier = self.querystring.get("Qualifier", [None])[0]
    key = _alias_key(self.backend, function_name, qualifier)
    if key is None:
        self.backend.remove_permission(function_name, statement_id, revision)
    elif key in ALIAS_POLICIES:
        ALIAS_POLICIES[key].del_statement(statement_id, revision)
    else:
        raise GenericResourcNotFound()
    return 204, {"status": 204}, "{}"


def delete_alias(self, name, function_name):
    ALIAS_POLICIES.pop((self.account_id, self.region_name, function_name, name), None)
    return _moto_delete_alias(self, name, function_name)


def delete_function(self, function_name, qualifier=None):
    if not qualifier:
        name = _function_name(function_name)
        for key in [k for k in ALIAS_POLICIES if k[:3] == (self.account_id, self.region_name, name)]:
            ALIAS_POLICIES.pop(key)
    return _moto_delete_function(self, function_name, qualifier)


def dispatch(self, environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith(emulator_cbor.PREFIX) and environ.get("REQUEST_METHOD") == "POST":
        moto = lambda inner, respond: _moto_dispatch(self, inner, respond)  # noqa: E731
        return emulator_cbor.serve(environ, start_response, moto)
    if not path.startswith(CODE_PREFIX) or environ.get("REQUEST_METHOD") != "GET":
        return _moto_dispatch(self, environ, start_response)
    try:
        account, region, name, version = path[len(CODE_PREFIX) :].split("/")
        backend = lambda_backends[account][region]
        code = backend.get_function(unquote(name), _qualifier(unquote(version))).code_bytes
    except Exception:  # noqa: BLE001 - any lookup failure is "no such code"
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no such function code\n"]
    headers = [("Content-Type", "application/zip"), ("Content-Length", str(len(code)))]
    start_response("200 OK", headers)
    return [code]


LambdaResponse.get_function = get_function
LambdaStorage.publish_version = publish_version
LambdaBackend.add_permission = add_permission
LambdaBackend.get_policy = get_policy
LambdaBackend.delete_alias = delete_alias
LambdaBackend.delete_function = delete_function
LambdaResponse.remove_permission = remove_permission
DomainDispatcherApplication.__call__ = dispatch
_CONDITIONAL_WRITES = threading.RLock()


def _atomic(write):
    def locked(self, *args, **kwargs):
        with _CONDITIONAL_WRITES:
            return write(self, *args, **kwargs)

    return locked


for _write in ("put_item", "update_item", "delete_item", "transact_write_items"):
    setattr(DynamoDBBackend, _write, _atomic(getattr(DynamoDBBackend, _write)))
for _write in ("put_object", "delete_object", "copy_object"):
    setattr(S3Response, _write, _atomic(getattr(S3Response, _write)))
_MOTO_MODULES = tuple(backends.list_of_moto_modules())
backends.list_of_moto_modules = lambda: _MOTO_MODULES
ApiGatewayV2Response.get_authorizers = get_authorizers
ApiGatewayV2Response.update_stage = update_stage
ApiGatewayV2Response.delete_route_settings = delete_route_settings
urls.url_paths[
    "{0}/v2/apis/(?P<api_id>[^/]+)/stages/(?P<stage_name>[^/]+)/routesettings/(?P<route_key>.+)$"
] = ApiGatewayV2Response.dispatch
ApiGatewayV2Response.delete_access_log_settings = delete_access_log_settings
urls.url_paths[
    "{0}/v2/apis/(?P<api_id>[^/]+)/stages/(?P<stage_name>[^/]+)/accesslogsettings$"
] = ApiGatewayV2Response.dispatch

if __name__ == "__main__":
    main()
