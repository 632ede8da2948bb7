with

source as (
    select * from {{ source('litellm', 'litellm_spend_logs') }}
),

parsed as (
    select
        *,
        try_cast(metadata as json) as metadata_json
    from source
    -- a failed request carries no tokens; a response the proxy served from its own cache
    -- (cache_hit True, LiteLLM's cost 0) reached no provider
    where
        coalesce(lower(status), 'success') <> 'failure'
        and coalesce(lower(trim(cache_hit)), '') not in ('true', '1')
),

renamed as (
    select
        coalesce(lower(nullif(custom_llm_provider, '')), split_part(model, '/', 1)) as provider,
        request_id,
        starttime as occurred_at,
        model,
        case
            when user like '%@%' then lower(trim(user))
            when end_user like '%@%' then lower(trim(end_user))
        end as user_email,
        coalesce(nullif(user, ''), nullif(end_user, '')) as user_ref,
        'gateway' as application,
        -- LiteLLM's prompt_tokens follows OpenAI: it includes cache reads and cache writes
        coalesce(
            try_cast(
                json_extract_string(metadata_json, '$.usage_object.prompt_tokens_details.cached_tokens') as bigint
            ),
            try_cast(json_extract_string(metadata_json, '$.usage_object.cache_read_input_tokens') as bigint),
            0
        ) as cache_read_tokens,
        -- cache writes: Anthropic's, or OpenAI's (GPT-5.6 and later, read only where named)
        coalesce(
            try_cast(json_extract_string(metadata_json, '$.usage_object.cache_creation_input_tokens') as bigint),
            case
                when contains(metadata, 'cache_write_tokens')
                    then try_cast(
                        json_extract_string(
                            metadata_json, '$.usage_object.prompt_tokens_details.cache_write_tokens'
                        ) as bigint
                    )
            end,
            0
        ) as cache_write_tokens,
        -- the part written at the 1-hour TTL (Anthropic's usage.cache_creation, as LiteLLM keeps it)
        coalesce(
            try_cast(
                json_extract_string(
                    metadata_json,
                    '$.usage_object.prompt_tokens_details.cache_creation_token_details.ephemeral_1h_input_tokens'
                ) as bigint
            ),
            0
        ) as cache_write_1h_tokens,
        -- where inference ran, as Anthropic's usage says (us: US-only inference)
        lower(json_extract_string(metadata_json, '$.usage_object.inference_geo')) as usage_inference_geo,
        -- Anthropic's server-side web searches (usage.server_tool_use), priced per search
        coalesce(
            try_cast(
                json_extract_string(metadata_json, '$.usage_object.server_tool_use.web_search_requests') as bigint
            ),
            0
        ) as web_search_requests,
        -- the audio part of the prompt and of the completion (OpenAI's usage details, and
        -- Gemini's audio modality as LiteLLM maps it), priced at the model's audio rates
        coalesce(
            try_cast(json_extract_string(metadata_json, '$.usage_object.prompt_tokens_details.audio_tokens') as bigint),
            0
        ) as input_audio_tokens,
        coalesce(
            try_cast(
                json_extract_string(metadata_json, '$.usage_object.completion_tokens_details.audio_tokens') as bigint
            ),
            0
        ) as output_audio_tokens,
        coalesce(prompt_tokens, 0) as prompt_tokens,
        coalesce(completion_tokens, 0) as output_tokens,
        spend as reported_cost_usd,
        regexp_extract(api_base, '/locations/([^/:]+)', 1) as endpoint_location,
        team_id as source_team_id,
        _loaded_at as loaded_at,
        _batch_id as batch_id,
        _line as source_line
    from parsed
),

normalised as (
    select
        * exclude (prompt_tokens, cache_write_tokens, endpoint_location, usage_inference_geo),
        prompt_tokens - cache_read_tokens - cache_write_tokens as input_tokens,
        cache_write_tokens - cache_write_1h_tokens as cache_write_5m_tokens,
        'standard' as service_tier,
        -- Claude on Vertex AI: the URL LiteLLM called names the endpoint's location; `global`
        -- is the list price, a region or a multi-region (us, eu) regional, priced at a multiple
        -- for the models seed inference_geo_multipliers lists; other calls: as their usage says
        case
            when not starts_with(provider, 'vertex') or not contains(lower(model), 'claude') then usage_inference_geo
            when endpoint_location = 'global' then 'global'
            when endpoint_location <> '' then 'regional'
        end as inference_geo
    from renamed
),

final as (
    select * from normalised
)

select * from final
