# The yardstick: the playground stack as the original Terraform set-up declares it, pointed at the
# local AWS emulator. Used only by the benchmark (scripts/bench) and to produce real Terraform
# state files for the migration tests. Same resources and settings as the provisioner's stack.

terraform {
  required_version = ">= 1.6.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}

variable "endpoint" {
  description = "Base URL of the local AWS emulator"
  type        = string
}

variable "name_prefix" {
  type    = string
  default = "aimodelshare"
}

variable "environment" {
  type    = string
  default = "dev"
}

variable "table_name" {
  type    = string
  default = ""
}

variable "lambda_memory" {
  type    = number
  default = 256
}

variable "lambda_zip" {
  description = "Path of the function's zip"
  type        = string
}

variable "lambda_architecture" {
  description = "arm64 or x86_64, as the stack file's [lambda] architecture"
  type        = string
  default     = "arm64"
}

variable "monitoring" {
  description = <<-EOT
    The releases and monitoring the provisioner's stack declares (a published version and the
    alias live, the stage's access log group, the CloudWatch alarms and dashboard), so the
    benchmark compares like with like. Off by default: the migration tests start from the
    original stack, which had none of them.
  EOT
  type        = bool
  default     = false
}

variable "cors_allow_origins" {
  type    = list(string)
  default = ["*"]
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  endpoints {
    apigatewayv2   = var.endpoint
    cloudwatch     = var.endpoint
    cloudwatchlogs = var.endpoint
    dynamodb       = var.endpoint
    iam            = var.endpoint
    lambda         = var.endpoint
    s3             = var.endpoint
    sts            = var.endpoint
  }
}

locals {
  name       = "${var.name_prefix}-${var.environment}"
  table_name = var.table_name != "" ? var.table_name : "${local.name}-playground"
  tags = {
    "provisioner:stack"       = var.name_prefix
    "provisioner:environment" = var.environment
  }
  # The routes of the API contract (function/src/contract.rs), by the provisioner's route names.
  routes = {
    post_tables = "POST /tables"
    get_tables  = "GET /tables"
    get_table   = "GET /tables/{tableId}"
    patch_table = "PATCH /tables/{tableId}"
    get_users   = "GET /tables/{tableId}/users"
    get_user    = "GET /tables/{tableId}/users/{username}"
    put_user    = "PUT /tables/{tableId}/users/{username}"
    get_openapi = "GET /openapi.json"
    get_health  = "GET /health"
  }
}

resource "aws_iam_role" "lambda" {
  name        = "${local.name}-lambda"
  description = "Runs ${local.name}-api (${var.environment} environment of ${var.name_prefix})"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "basic" {
  role       = aws_iam_role.lambda.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_iam_role_policy" "dynamodb" {
  name = "${local.name}-dynamodb"
  role = aws_iam_role.lambda.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid    = "PlaygroundTable"
      Effect = "Allow"
      Action = [
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        "dynamodb:DeleteItem",
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
      ]
      Resource = [aws_dynamodb_table.playground.arn, "${aws_dynamodb_table.playground.arn}/index/*"]
    }]
  })
}

resource "aws_dynamodb_table" "playground" {
  name         = local.table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "tableId"
  range_key    = "username"

  attribute {
    name = "tableId"
    type = "S"
  }
  attribute {
    name = "username"
    type = "S"
  }
  attribute {
    name = "createdAt"
    type = "S"
  }
  attribute {
    name = "submissionCount"
    type = "N"
  }

  # Sparse ordering indexes (the provisioner's [table] ordered_indexes, on by default).
  global_secondary_index {
    name            = "byCreatedAt"
    hash_key        = "username"
    range_key       = "createdAt"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "bySubmissionCount"
    hash_key        = "tableId"
    range_key       = "submissionCount"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "byUser"
    hash_key        = "username"
    range_key       = "tableId"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  deletion_protection_enabled = false

  tags = local.tags
}

resource "aws_cloudwatch_log_group" "lambda" {
  name              = "/aws/lambda/${local.name}-api"
  retention_in_days = 14
  tags              = local.tags
}

resource "aws_lambda_function" "api" {
  function_name    = "${local.name}-api"
  role             = aws_iam_role.lambda.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  memory_size      = var.lambda_memory
  timeout          = 10
  filename         = var.lambda_zip
  source_code_hash = filebase64sha256(var.lambda_zip)
  publish          = var.monitoring

  environment {
    variables = {
      TABLE_NAME         = aws_dynamodb_table.playground.name
      SAFE_CONCURRENCY   = "true"
      CORS_ALLOW_ORIGINS = join(",", var.cors_allow_origins)
    }
  }

  tags       = local.tags
  depends_on = [aws_cloudwatch_log_group.lambda, aws_iam_role_policy_attachment.basic]
}

resource "aws_apigatewayv2_api" "http" {
  name          = "${local.name}-http-api"
  protocol_type = "HTTP"
  cors_configuration {
    allow_origins = var.cors_allow_origins
    allow_methods = ["GET", "OPTIONS", "PATCH", "POST", "PUT"]
    allow_headers = ["authorization", "content-type"]
    max_age       = 300
  }
  tags = local.tags
}

resource "aws_apigatewayv2_integration" "lambda" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = var.monitoring ? aws_lambda_alias.live[0].arn : aws_lambda_function.api.arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 29000
}

resource "aws_apigatewayv2_route" "route" {
  for_each  = local.routes
  api_id    = aws_apigatewayv2_api.http.id
  route_key = each.value
  target    = "integrations/${aws_apigatewayv2_integration.lambda.id}"
}

resource "aws_apigatewayv2_stage" "main" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = var.environment
  auto_deploy = true
  tags        = local.tags

  dynamic "access_log_settings" {
    for_each = aws_cloudwatch_log_group.api_access
    content {
      destination_arn = access_log_settings.value.arn
      format = jsonencode({
        requestId          = "$context.requestId"
        sourceIp           = "$context.identity.sourceIp"
        requestTime        = "$context.requestTime"
        routeKey           = "$context.routeKey"
        status             = "$context.status"
        responseLength     = "$context.responseLength"
        latency            = "$context.responseLatency"
        integrationLatency = "$context.integrationLatency"
        integrationError   = "$context.integrationErrorMessage"
      })
    }
  }
}

resource "aws_lambda_permission" "allow_invoke" {
  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api.function_name
  qualifier     = var.monitoring ? aws_lambda_alias.live[0].name : null
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/*"
}

resource "aws_lambda_alias" "live" {
  count            = var.monitoring ? 1 : 0
  name             = "live"
  function_name    = aws_lambda_function.api.function_name
  function_version = aws_lambda_function.api.version
}

resource "aws_cloudwatch_log_group" "api_access" {
  count             = var.monitoring ? 1 : 0
  name              = "/aws/apigateway/${local.name}-http-api"
  retention_in_days = 14
  tags              = local.tags
}

locals {
  alias_dimensions = { FunctionName = "${local.name}-api", Resource = "${local.name}-api:live" }
  stage_dimensions = { ApiId = aws_apigatewayv2_api.http.id, Stage = var.environment }
  table_dimensions = { TableName = local.table_name }
  # The provisioner's default [alarms]: key = [namespace, metric, dimensions, statistic, threshold].
  alarms = {
    function-errors       = ["AWS/Lambda", "Errors", local.alias_dimensions, "Sum", 5]
    function-throttles    = ["AWS/Lambda", "Throttles", local.alias_dimensions, "Sum", 1]
    function-duration     = ["AWS/Lambda", "Duration", local.alias_dimensions, "p99", 8000]
    api-5xx               = ["AWS/ApiGateway", "5xx", local.stage_dimensions, "Average", 0.05]
    api-latency           = ["AWS/ApiGateway", "Latency", local.stage_dimensions, "p99", 2000]
    table-read-throttles  = ["AWS/DynamoDB", "ReadThrottleEvents", local.table_dimensions, "Sum", 1]
    table-write-throttles = ["AWS/DynamoDB", "WriteThrottleEvents", local.table_dimensions, "Sum", 1]
  }
}

resource "aws_cloudwatch_metric_alarm" "alarm" {
  for_each   = var.monitoring ? local.alarms : {}
  alarm_name = "${local.name}-${each.key}"
  tags       = local.tags
  # The metric: namespace, name, dimensions; a percentile (p99) is an extended statistic.
  namespace          = each.value[0]
  metric_name        = each.value[1]
  dimensions         = each.value[2]
  statistic          = startswith(each.value[3], "p") ? null : each.value[3]
  extended_statistic = startswith(each.value[3], "p") ? each.value[3] : null
  # Fires on one minute at or over the threshold; a quiet minute (no data) is not breaching.
  period              = 60
  evaluation_periods  = 1
  threshold           = each.value[4]
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
}

resource "aws_cloudwatch_dashboard" "main" {
  count          = var.monitoring ? 1 : 0
  dashboard_name = local.name
  dashboard_body = jsonencode({
    widgets = [
      for i, w in [
        ["Function invocations, errors, throttles", "Sum", [for m in ["Invocations", "Errors", "Throttles"] : ["AWS/Lambda", m, "FunctionName", "${local.name}-api", "Resource", "${local.name}-api:live"]]],
        ["Function duration (p99, ms)", "p99", [["AWS/Lambda", "Duration", "FunctionName", "${local.name}-api", "Resource", "${local.name}-api:live"]]],
        ["API requests and errors", "Sum", [for m in ["Count", "4xx", "5xx"] : ["AWS/ApiGateway", m, "ApiId", aws_apigatewayv2_api.http.id, "Stage", var.environment]]],
        ["API latency (p99, ms)", "p99", [for m in ["Latency", "IntegrationLatency"] : ["AWS/ApiGateway", m, "ApiId", aws_apigatewayv2_api.http.id, "Stage", var.environment]]],
        ["Table throttled reads and writes", "Sum", [for m in ["ReadThrottleEvents", "WriteThrottleEvents"] : ["AWS/DynamoDB", m, "TableName", local.table_name]]],
        ["Table consumed capacity", "Sum", [for m in ["ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"] : ["AWS/DynamoDB", m, "TableName", local.table_name]]],
        ] : {
        type       = "metric", x = (i % 2) * 12, y = floor(i / 2) * 6, width = 12, height = 6
        properties = { title = w[0], region = "us-east-1", stat = w[1], period = 60, metrics = w[2] }
      }
    ]
  })
}

output "api_base_url" {
  value = "${aws_apigatewayv2_api.http.api_endpoint}/${aws_apigatewayv2_stage.main.name}"
}

output "dynamodb_table_name" {
  value = aws_dynamodb_table.playground.name
}

output "lambda_name" {
  value = aws_lambda_function.api.function_name
}
