{#- CRM_CUSTOMER snapshots, one row per customer and snapshot day, personal data pseudonymised.
    A table, not a view like the other small staging models: the snapshots are a fifth of all
    raw rows, and a view made each of its nine tests and dim_customer re-sort the whole raw
    table and re-hash three columns (~150 s of tests at scale 0.3); the table does that once. -#}
{{ config(materialized='table') }}

with

source as (
    select * from {{ source('raw', 'crm_customer') }}
),

deduplicated as (
    -- one row per key and snapshot; within a snapshot a later delivery wins
    select distinct on (customer_id, _business_date) *
    from source
    order by customer_id asc, _business_date asc, _load_id desc, _record_no desc
),

final as (
    select
        d.customer_id,
        {{ pseudonymise('d.name') }} as name_key,
        {{ pseudonymise('d.id_no') }} as id_no_key,
        {{ pseudonymise('d.phone') }} as phone_key,
        d.city_code,
        d.segment,
        d.value_tier,
        d.join_date,
        d._business_date as snapshot_date,
        d._load_id as load_id
    from deduplicated as d
    cross join {{ pseudonym_key_relation() }} as k
)

select * from final
