with

source as (
    select * from {{ source('raw', 'crm_area') }}
),

deduplicated as (
    -- one row per key and snapshot; within a snapshot a later delivery wins
    select distinct on (area_code, _business_date) *
    from source
    order by area_code asc, _business_date asc, _load_id desc, _record_no desc
),

final as (
    select
        d.area_code,
        d.area_name,
        d.level,
        d.parent_code,
        d._business_date as snapshot_date,
        d._load_id as load_id
    from deduplicated as d
)

select * from final
