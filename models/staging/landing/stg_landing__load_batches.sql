with

source as (
    select * from {{ source('landing', 'load_batches') }}
),

renamed as (
    select
        batch_id,
        source_format,
        file_path,
        file_checksum,
        loaded_at,
        rows_landed,
        rows_quarantined,
        rows_skipped as rows_ignored
    from source
)

select * from renamed
