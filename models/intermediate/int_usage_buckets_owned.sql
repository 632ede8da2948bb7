{#-
    Provider usage reports in one grain (one row per bucket result), each with the owner of
    its key: for Anthropic the API key, else the workspace; for OpenAI the user, else the
    project, else the API key (from the api-key-owners mapping, in force at the bucket start).
-#}
with

anthropic as (
    select * from {{ ref('stg_anthropic__usage_buckets') }}
),

openai as (
    select * from {{ ref('stg_openai__usage_buckets') }}
),

owners as (
    select * from {{ ref('stg_key_owners__api_key_owners') }}
),

buckets as (
    select * from anthropic
    union all by name
    select * from openai
),

keyed as (
    select
        *,
        md5(concat_ws(
            '|', source_format, bucket_start, model, api_key_id, workspace_id, project_id, user_id,
            service_tier, context_window, speed, inference_geo, api_source
        )) as bucket_id
    from buckets
),

candidate_owners as (
    select
        keyed.bucket_id,
        owners.owner_email,
        owners.team_id,
        owners.cost_center,
        case
            when owners.key_type in ('anthropic_api_key', 'openai_user') then 1
            when owners.key_type in ('anthropic_workspace', 'openai_project') then 2
            else 3
        end as owner_priority
    from keyed
    inner join owners
        on
            (
                (
                    owners.key_type = 'anthropic_api_key'
                    and keyed.provider = 'anthropic'
                    and keyed.api_key_id = owners.key_id
                )
                or (
                    owners.key_type = 'anthropic_workspace'
                    and keyed.provider = 'anthropic'
                    and keyed.workspace_id = owners.key_id
                )
                or (owners.key_type = 'openai_user' and keyed.provider = 'openai' and keyed.user_id = owners.key_id)
                or (
                    owners.key_type = 'openai_project'
                    and keyed.provider = 'openai'
                    and keyed.project_id = owners.key_id
                )
                or (
                    owners.key_type = 'openai_api_key'
                    and keyed.provider = 'openai'
                    and keyed.api_key_id = owners.key_id
                )
            )
            and cast(keyed.bucket_start as date) >= owners.valid_from
            and cast(keyed.bucket_start as date) < owners.valid_to
),

best_owner as (
    select *
    from candidate_owners
    qualify row_number() over (partition by bucket_id order by owner_priority) = 1
),

final as (
    select
        keyed.bucket_id,
        keyed.source_format,
        keyed.provider,
        keyed.bucket_start,
        cast(keyed.bucket_start as date) as usage_date,
        keyed.model,
        keyed.service_tier,
        keyed.speed,
        keyed.inference_geo,
        best_owner.owner_email,
        best_owner.team_id as owner_team_id,
        best_owner.cost_center as owner_cost_center,
        keyed.requests,
        keyed.input_tokens,
        keyed.output_tokens,
        keyed.cache_read_tokens,
        keyed.cache_write_5m_tokens,
        keyed.cache_write_1h_tokens,
        -- only Anthropic's report counts web searches
        coalesce(keyed.web_search_requests, 0) as web_search_requests,
        -- only OpenAI's report counts audio apart (its newer results)
        coalesce(keyed.input_audio_tokens, 0) as input_audio_tokens,
        coalesce(keyed.output_audio_tokens, 0) as output_audio_tokens,
        keyed.loaded_at
    from keyed
    left join best_owner on keyed.bucket_id = best_owner.bucket_id
)

select * from final
